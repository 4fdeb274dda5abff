import type { Request, Response } from 'express'
import { resolveClientAuth, type ClientAuthConfig, type ClientAuthMethod } from './client-auth.js'
import { parError } from './errors.js'
import { loadSigningKey, type SigningAlg, type SigningKey, type SigningKeyInput } from './keys.js'
import { suggest } from './suggest.js'

/** Authorization request parameters sent to the OP (inside the pushed request). */
export interface AuthorizationParams {
  /** Space-separated scopes; must include `openid`. Default `openid profile email`. */
  scope?: string
  /** Anything else the OP understands (`prompt`, `acr_values`, `ui_locales`, `resource`, ...). */
  [param: string]: string | undefined
}

/** Paths of the routes `auth()` serves; `false` disables a route. */
export interface RoutesOptions {
  /** Default `/login`. */
  login?: string | false
  /** Default `/callback`. Cannot be disabled: `redirect_uri` is `baseURL` + this path. */
  callback?: string
  /** Default `/logout`. */
  logout?: string | false
  /** Where `/logout` sends the browser afterwards. Default `/`. */
  postLogoutRedirect?: string
  /**
   * Publishes the public halves of the configured signing keys as a JWK Set, e.g.
   * `'/.well-known/jwks.json'`, so the OP can be registered with a `jwks_uri`. Default `false`.
   */
  jwks?: string | false
}

/** What the callback stores in the session for a logged-in user. Plain JSON. */
export interface StoredAuth {
  idToken: string
  /** The validated ID token's claims. */
  claims: Record<string, unknown>
  accessToken?: string
  tokenType?: string
  /** Access token expiry, seconds since the epoch. */
  expiresAt?: number
  refreshToken?: string
  scope?: string
}

/**
 * Called after the callback validated everything and before the session is stored. Return the
 * (possibly trimmed or enriched) record to store. A throw ends the login with no session.
 */
export type AfterCallback = (req: Request, res: Response, auth: StoredAuth) => StoredAuth | Promise<StoredAuth>

/** Options of {@link auth}. Names follow express-openid-connect wherever the concept is the same. */
export interface AuthOptions {
  /** The OP's issuer identifier, e.g. `https://op.example.com`. Required. */
  issuerBaseURL: string
  /** The app's own origin (and base path). `redirect_uri` = `baseURL` + `routes.callback`. Required. */
  baseURL: string
  /** The client's identifier at the OP. Required. */
  clientID: string
  /** The client secret, for `client_secret_basic` (default), `client_secret_post` or `client_secret_jwt`. */
  clientSecret?: string
  /**
   * How the client authenticates at the PAR and token endpoints (the same method at both).
   * Default `private_key_jwt` when `clientAssertionSigningKey` is given, else `client_secret_basic`.
   * A public client (`none`) is refused.
   */
  clientAuthMethod?: ClientAuthMethod
  /**
   * The private key of `private_key_jwt` (RFC 7523): a JWK, a PKCS#8 PEM string, a `KeyObject`
   * or a `CryptoKey` (RSA, EC P-256/384/521 or Ed25519). `npx express-par keygen` makes one.
   */
  clientAssertionSigningKey?: SigningKeyInput
  /** The client assertion's algorithm. Default: from the key and the OP's metadata (`HS256` for `client_secret_jwt`). */
  clientAssertionSigningAlg?: SigningAlg | 'HS256'
  /**
   * Turns on JAR (RFC 9101): every authorization request is pushed as a request object signed
   * with this private key (same formats as `clientAssertionSigningKey`; it may be the same key).
   */
  requestObjectSigningKey?: SigningKeyInput
  /** The request object's algorithm. Default: from the key and the OP's `request_object_signing_alg_values_supported`. */
  requestObjectSigningAlg?: SigningAlg
  /** The `kid` of the request object's header. Default: the JWK's `kid`, else its RFC 7638 thumbprint. */
  requestObjectSigningKeyId?: string
  /** Parameters of every authorization request. */
  authorizationParams?: AuthorizationParams
  routes?: RoutesOptions
  /** Timeout of every request to the OP, in milliseconds. Default 5000. */
  httpTimeout?: number
  /** Allowed clock skew when checking ID token timestamps, in seconds. Default 60. */
  clockTolerance?: number
  /** Also end the session at the OP (RP-initiated logout) on `/logout`. Default `false`. */
  idpLogout?: boolean
  afterCallback?: AfterCallback
  /** Permit an `http:` issuer and base URL: local development and tests only. Default `false`. */
  allowInsecureRequests?: boolean
}

export interface Config {
  readonly issuer: URL
  readonly baseURL: URL
  readonly clientID: string
  readonly clientSecret: string | undefined
  readonly clientAuthMethod: ClientAuthMethod
  /** Client authentication at the PAR and token endpoints. */
  readonly clientAuth: ClientAuthConfig
  /** Set when JAR is on. */
  readonly requestObjectKey: SigningKey | undefined
  readonly authorizationParams: Readonly<AuthorizationParams> & { scope: string }
  readonly routes: Readonly<{ login: string | false; callback: string; logout: string | false; postLogoutRedirect: string; jwks: string | false }>
  readonly redirectUri: string
  readonly httpTimeout: number
  readonly clockTolerance: number
  readonly idpLogout: boolean
  readonly afterCallback: AfterCallback | undefined
  readonly allowInsecureRequests: boolean
}

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
  'afterCallback',
  'allowInsecureRequests',
] as const

const KNOWN_ROUTES = ['login', 'callback', 'logout', 'postLogoutRedirect', 'jwks'] as const

/**
 * Authorization parameters express-par sets itself on every request. Accepting them from the app
 * would let it weaken PKCE, state, nonce or the redirect URI, so they are refused.
 */
export const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'code_verifier',
  'request',
  'request_uri',
  'response_mode',
])

function invalid(message: string): never {
  throw parError('ERR_CONFIG_INVALID', `express-par: ${message}`)
}

function checkKeys(given: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(given)) {
    if (known.includes(key)) continue
    const hint = suggest(key, known)
    invalid(`unknown option \`${where}${key}\`.${hint ? ` Did you mean \`${where}${hint}\`?` : ''}`)
  }
}

/** Drops keys whose value is `undefined`: such an option counts as absent. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

function requireString(value: unknown, name: string): string {
  if (value === undefined) invalid(`\`${name}\` is required.`)
  if (typeof value !== 'string' || value.trim() === '') invalid(`\`${name}\` must be a non-empty string.`)
  return value
}

function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
}

function parseURL(value: string, name: string, allowInsecure: boolean): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    invalid(`\`${name}\` must be an absolute URL, got ${JSON.stringify(value)}.`)
  }
  if (url.protocol === 'http:' && !allowInsecure) {
    invalid(
      `\`${name}\` is an http: URL (${url.href}). Use https:, or set \`allowInsecureRequests: true\` for local development and tests only.`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') invalid(`\`${name}\` must be an https: URL, got ${url.protocol}`)
  if (url.search || url.hash) invalid(`\`${name}\` must not have a query or fragment (${url.href}).`)
  return url
}

function routePath(value: unknown, name: string, disableable: boolean): string | false {
  if (value === false && disableable) return false
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || /[?#\s\\]/.test(value)) {
    invalid(`\`routes.${name}\` must be a path starting with "/"${disableable ? ' or false' : ''}, got ${JSON.stringify(value)}.`)
  }
  return value
}

function positiveNumber(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    invalid(`\`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}.`)
  }
  return value
}

function checkAuthorizationParams(value: unknown): Readonly<AuthorizationParams> & { scope: string } {
  if (value === undefined) return Object.freeze({ scope: 'openid profile email' })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('`authorizationParams` must be an object.')
  const params = defined(value as AuthorizationParams)
  const problem = authorizationParamsProblem(params)
  if (problem) invalid(`authorizationParams: ${problem}`)
  return Object.freeze({ ...params, scope: params.scope ?? 'openid profile email' })
}

/**
 * Why a set of authorization parameters is unacceptable, or `undefined` when it is fine. Shared by
 * `auth()` and `res.oidc.login()`.
 */
export function authorizationParamsProblem(params: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    if (key === 'response_type' && value === 'code') continue
    if (RESERVED_AUTHORIZATION_PARAMS.has(key)) {
      return `\`${key}\` is set by express-par on every request (PAR, PKCE S256, state, nonce, response_type=code with the query response mode, redirect_uri = baseURL + routes.callback); remove it.`
    }
    if (typeof value !== 'string') return `\`${key}\` must be a string, got ${typeof value}.`
  }
  const scope = params.scope
  if (scope !== undefined && !String(scope).split(' ').includes('openid')) {
    return '`scope` must include `openid`: express-par logs users in with OpenID Connect.'
  }
  return undefined
}

/**
 * Validates `auth()` options once, before the app serves anything, and returns a frozen config.
 * Throws an `ExpressParError` with code `ERR_CONFIG_INVALID` naming the option to fix.
 */
export function buildConfig(options: AuthOptions): Config {
  if (typeof options !== 'object' || options === null) invalid('auth() takes an options object.')
  const given = defined(options)
  checkKeys(given, KNOWN_OPTIONS, '')

  const allowInsecureRequests = given.allowInsecureRequests ?? false
  if (typeof allowInsecureRequests !== 'boolean') invalid('`allowInsecureRequests` must be a boolean.')

  const issuer = parseURL(requireString(given.issuerBaseURL, 'issuerBaseURL'), 'issuerBaseURL', allowInsecureRequests)
  const baseURL = parseURL(requireString(given.baseURL, 'baseURL'), 'baseURL', true)
  if (baseURL.protocol === 'http:' && !allowInsecureRequests && !isLoopback(baseURL)) {
    invalid(`\`baseURL\` is an http: URL (${baseURL.href}): session cookies and codes would cross the network in clear. Use https:.`)
  }
  const clientID = requireString(given.clientID, 'clientID')

  const clientAuth = resolveClientAuth(given)
  const requestObjectKey = requestObjectSigningKey(given)

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
  })
  const enabled = [routes.login, routes.callback, routes.logout, routes.jwks].filter((r): r is string => r !== false)
  if (new Set(enabled).size !== enabled.length) invalid('`routes.login`, `routes.callback`, `routes.logout` and `routes.jwks` must be different paths.')
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
    afterCallback: given.afterCallback,
    allowInsecureRequests,
  })
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
