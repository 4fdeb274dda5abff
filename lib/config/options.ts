/** `auth()`'s options, validated once, before the app serves anything: each feature's checker lives next to its code; this file composes them into a frozen `Config` (types.ts). */

import { resolveClientAuth } from '../op/client-auth.js'
import { authorizationParamsProblem, serialisedAuthorizationParams } from './authorization-params.js'
import { checkKeys, defined, invalid, isLoopback, parseURL, positiveNumber, requireString, routePath } from './checks.js'
import { checkPresence } from './presence.js'
import { loadSigningKey, type SigningKey } from '../op/keys.js'
import { checkCoordination } from '../session/coordination.js'
import { checkLifetimes } from '../session/lifetimes.js'
import { checkBackchannelLogout } from '../session/login-index.js'
import { checkInstanceName } from '../session/state.js'
import { checkDPoP } from '../op/dpop.js'
import { checkMtls } from '../op/mtls.js'
import { checkProfile } from './profile.js'
import { checkResponseMode } from '../op/jarm.js'
import type { AuthOptions, AuthorizationParams, Config } from './types.js'

export type { AfterCallback, AuthOptions, AuthorizationParams, Config, RoutesOptions, StoredAuth } from './types.js'

const KNOWN_OPTIONS = [
  'issuerBaseURL',
  'baseURL',
  'clientID',
  'clientSecret',
  'clientAuthMethod',
  'clientAssertionSigningKey',
  'clientAssertionSigningAlg',
  'requestObjectSigningKey',
  'requestObjectSigningAlg',
  'requestObjectSigningKeyId',
  'authorizationParams',
  'routes',
  'httpTimeout',
  'clockTolerance',
  'idpLogout',
  'backchannelLogout',
  'afterCallback',
  'allowInsecureRequests',
  'session',
  'coordination',
  'name',
  'dpop',
  'mtls',
  'profile',
  'responseMode',
] as const

const KNOWN_ROUTES = ['login', 'callback', 'logout', 'postLogoutRedirect', 'jwks', 'backchannelLogout'] as const

function checkAuthorizationParams(value: unknown): Readonly<Record<string, string>> & { scope: string } {
  if (value === undefined) return Object.freeze({ scope: 'openid profile email' })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('`authorizationParams` must be an object.')
  const params = defined(value as AuthorizationParams)
  const problem = authorizationParamsProblem(params)
  if (problem) invalid(`authorizationParams: ${problem}`)
  const serialised = serialisedAuthorizationParams(params)
  return Object.freeze({ ...serialised, scope: serialised.scope ?? 'openid profile email' })
}

/**
 * Validates `auth()` options once, before the app serves anything, and returns a frozen config.
 * Throws an `ExpressParError` with code `ERR_CONFIG_INVALID` naming the option to fix.
 */
export function buildConfig(options: AuthOptions): Config {
  if (typeof options !== 'object' || options === null) invalid('auth() takes an options object.')
  const given = defined(options)
  checkPresence(given, KNOWN_OPTIONS)

  const allowInsecureRequests = given.allowInsecureRequests ?? false
  if (typeof allowInsecureRequests !== 'boolean') invalid('`allowInsecureRequests` must be a boolean.')

  const issuer = parseURL(requireString(given.issuerBaseURL, 'issuerBaseURL'), 'issuerBaseURL', allowInsecureRequests)
  const baseURL = parseURL(requireString(given.baseURL, 'baseURL'), 'baseURL', true)
  if (baseURL.protocol === 'http:' && !allowInsecureRequests && !isLoopback(baseURL)) {
    invalid(`\`baseURL\` is an http: URL (${baseURL.href}): session cookies and codes would cross the network in clear. Use https:.`)
  }
  const clientID = requireString(given.clientID, 'clientID')

  const dpop = checkDPoP(given.dpop)
  const mtls = checkMtls(given.mtls)
  const responseMode = checkResponseMode(given.responseMode)
  const { profile, clientAuth, requestObjectKey } = checkProfile(given.profile, {
    issuer,
    baseURL,
    allowInsecureRequests,
    clientSecretGiven: given.clientSecret !== undefined,
    clientAuth: resolveClientAuth(given),
    requestObjectKey: requestObjectSigningKey(given),
    dpop,
    mtls,
    responseMode,
  })

  const routesGiven = given.routes === undefined ? {} : defined(given.routes)
  if (typeof routesGiven !== 'object' || routesGiven === null) invalid('`routes` must be an object.')
  checkKeys(routesGiven, KNOWN_ROUTES, 'routes.')
  if ((routesGiven as { callback?: unknown }).callback === false) {
    invalid('`routes.callback` cannot be disabled: the OP sends the browser back to baseURL + routes.callback.')
  }
  const routes = Object.freeze({
    login: routePath(routesGiven.login ?? '/login', 'login', true),
    callback: routePath(routesGiven.callback ?? '/callback', 'callback', false) as string,
    logout: routePath(routesGiven.logout ?? '/logout', 'logout', true),
    postLogoutRedirect: routePath(routesGiven.postLogoutRedirect ?? '/', 'postLogoutRedirect', false) as string,
    jwks: routePath(routesGiven.jwks ?? false, 'jwks', true),
    backchannelLogout: backchannelLogoutRoute(given.backchannelLogout, routesGiven.backchannelLogout),
  })
  const enabled = [routes.login, routes.callback, routes.logout, routes.jwks, routes.backchannelLogout].filter((r): r is string => r !== false)
  if (new Set(enabled).size !== enabled.length) invalid('`routes.login`, `routes.callback`, `routes.logout`, `routes.jwks` and `routes.backchannelLogout` must be different paths.')
  if (routes.jwks && !clientAuth.key && !requestObjectKey) {
    invalid('`routes.jwks` publishes the public halves of `clientAssertionSigningKey` and `requestObjectSigningKey`, but neither is configured.')
  }

  if (given.idpLogout !== undefined && typeof given.idpLogout !== 'boolean') invalid('`idpLogout` must be a boolean.')
  if (given.afterCallback !== undefined && typeof given.afterCallback !== 'function') invalid('`afterCallback` must be a function.')

  return Object.freeze({
    issuer,
    baseURL,
    clientID,
    clientSecret: clientAuth.secret,
    clientAuthMethod: clientAuth.method,
    clientAuth,
    requestObjectKey,
    authorizationParams: checkAuthorizationParams(given.authorizationParams),
    routes,
    redirectUri: appURL(baseURL, routes.callback),
    httpTimeout: positiveNumber(given.httpTimeout, 'httpTimeout', 5000),
    clockTolerance: positiveNumber(given.clockTolerance, 'clockTolerance', 60, true),
    idpLogout: given.idpLogout ?? false,
    backchannelLogout: routes.backchannelLogout !== false,
    afterCallback: given.afterCallback,
    allowInsecureRequests,
    lifetimes: checkLifetimes(given.session),
    coordination: checkCoordination(given.coordination),
    name: checkInstanceName(given.name),
    dpop,
    mtls,
    profile,
    responseMode,
  })
}

/** The back-channel logout route: served only with `backchannelLogout: true`. */
function backchannelLogoutRoute(enabled: unknown, path: unknown): string | false {
  if (!checkBackchannelLogout(enabled)) {
    if (path !== undefined) invalid('`routes.backchannelLogout` is set but `backchannelLogout` is not true: set `backchannelLogout: true` to serve it, or remove the route.')
    return false
  }
  return routePath(path ?? '/backchannel-logout', 'backchannelLogout', false)
}

/** JAR's key, or `undefined` when JAR is off (its algorithm and key id then make no sense). */
function requestObjectSigningKey(given: Partial<AuthOptions>): SigningKey | undefined {
  if (given.requestObjectSigningKey === undefined) {
    for (const name of ['requestObjectSigningAlg', 'requestObjectSigningKeyId'] as const) {
      if (given[name] !== undefined) invalid(`\`${name}\` is set but \`requestObjectSigningKey\` is not: set the key to turn JAR on, or remove \`${name}\`.`)
    }
    return undefined
  }
  return loadSigningKey(given.requestObjectSigningKey, {
    option: 'requestObjectSigningKey',
    algOption: 'requestObjectSigningAlg',
    alg: given.requestObjectSigningAlg,
    kid: given.requestObjectSigningKeyId,
    kidOption: 'requestObjectSigningKeyId',
  })
}

/** `baseURL` joined with an app path: `https://app/base` + `/callback` = `https://app/base/callback`. */
export function appURL(baseURL: URL, path: string): string {
  const base = baseURL.href.endsWith('/') ? baseURL.href.slice(0, -1) : baseURL.href
  return base + path
}
