import type { Request, Response } from 'express'
import { resolveClientAuth, type ClientAuthConfig, type ClientAuthMethod } from '../op/client-auth.js'
import { authorizationParamsProblem, serialisedAuthorizationParams } from './authorization-params.js'
import { checkKeys, defined, invalid, isLoopback, parseURL, positiveNumber, requireString, routePath } from './checks.js'
import { checkPresence } from './presence.js'
import { loadSigningKey, type SigningAlg, type SigningKey, type SigningKeyInput } from '../op/keys.js'
import { checkCoordination, type Coordination } from '../session/coordination.js'
import { checkLifetimes, type Lifetimes, type SessionOptions } from '../session/lifetimes.js'
import { checkBackchannelLogout } from '../session/login-index.js'
import { checkInstanceName } from '../session/state.js'
import { checkDPoP, type DPoPConfig, type DPoPOption } from '../op/dpop.js'
import { checkMtls, type MtlsConfig, type MtlsOptions } from '../op/mtls.js'
import { checkProfile, type ProfileConfig, type ProfileName } from './profile.js'
import { checkResponseMode, type ResponseMode } from '../op/jarm.js'
import type { AuthorizationDetail } from '../op/authorization-details.js'

/**
 * Authorization request parameters sent to the OP (inside the pushed request, and so inside the
 * signed request object with JAR). Strings, except where a parameter is a number or JSON.
 */
export interface AuthorizationParams {
  /** Space-separated scopes; must include `openid`. Default `openid profile email`. */
  scope?: string
  /** Seconds since the user last authenticated at most; the ID token's `auth_time` must honour it (OpenID Connect Core §3.1.2.1). */
  max_age?: number | string
  /** Claims requested individually (OpenID Connect Core §5.5): an object, or its JSON text. */
  claims?: Record<string, unknown> | string
  /**
   * Rich Authorization Requests (RFC 9396): what the user is asked to authorize, e.g. a payment
   * consent, as an array of objects each with a string `type` (or its JSON text). What the token
   * response grants is `req.oidc.authorizationDetails`.
   *
   * @example
   * authorization_details: [{ type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' }, creditorName: 'Merchant A' }]
   */
  authorization_details?: AuthorizationDetail[] | string
  /** Anything else the OP understands (`prompt`, `acr_values`, `ui_locales`, `resource`, ...), as a string. */
  [param: string]: string | number | Record<string, unknown> | AuthorizationDetail[] | undefined
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
  /** Where the OP posts logout tokens when `backchannelLogout` is on. Default `/backchannel-logout`. */
  backchannelLogout?: string
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
  /** The `authorization_details` the token response granted (RFC 9396 §7), updated by a refresh that returns new ones. */
  authorizationDetails?: AuthorizationDetail[]
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
   * `tls_client_auth` and `self_signed_tls_client_auth` (RFC 8705 §2) authenticate with the `mtls`
   * certificate. A public client (`none`) is refused.
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
  /**
   * Serve `POST routes.backchannelLogout` (OpenID Connect Back-Channel Logout 1.0): when the OP
   * ends a user's session, every app session of that `sid` (or that `sub`) ends, on every instance
   * sharing the session store and `coordination`. Register baseURL + the route as the client's
   * `backchannel_logout_uri` at the OP. Default `false`.
   */
  backchannelLogout?: boolean
  afterCallback?: AfterCallback
  /** Permit an `http:` issuer and base URL: local development and tests only. Default `false`. */
  allowInsecureRequests?: boolean
  /**
   * How long a login lasts, in seconds: `absoluteDuration` after it completed (default 7 days),
   * `rollingDuration` after the last request that read it (default 1 day); `false` turns one off.
   */
  session?: SessionOptions
  /**
   * The store that makes one-time rules (callbacks, refreshes, logout tokens) hold across
   * instances. Default `memoryCoordination()` (one process); `redisCoordination(client)` from
   * `express-par/redis` for several.
   */
  coordination?: Coordination
  /**
   * Isolates this instance's logins in the session, for several `auth()` instances in one app (a
   * staff login and a customer login). Letters, digits, `_` and `-`. Default `'default'`.
   */
  name?: string
  /**
   * DPoP (RFC 9449): every login gets a fresh key pair (ES256 by default; `{ alg: 'EdDSA' }` or
   * `{ alg: 'PS256' }` on request) that the code and the tokens are bound to. Its proof goes with
   * the PAR request (the OP binds the code to the key), the token and refresh requests, and
   * `req.oidc.fetch()`; server nonces are honoured. The key pair lives in the session store, never
   * in a cookie. A token response that is not `token_type: DPoP` is refused (`ERR_DPOP_DOWNGRADE`).
   *
   * @example
   * auth({ ..., dpop: true })
   * @see RFC 9449 §5, §8, §10
   */
  dpop?: DPoPOption
  /**
   * Mutual TLS (RFC 8705): the client certificate (PEM strings or Buffers) is presented on every
   * back-channel call (PAR, token, JWKS, `req.oidc.fetch()`), which binds the tokens to it; the
   * OP's `mtls_endpoint_aliases` are used when it advertises them. With `clientAuthMethod:
   * 'tls_client_auth'` or `'self_signed_tls_client_auth'` the certificate also authenticates the
   * client. `ca` replaces Node's default trust store for those calls.
   *
   * @example
   * auth({ ..., clientAuthMethod: 'tls_client_auth', mtls: { cert: process.env.CLIENT_CERT, key: process.env.CLIENT_KEY } })
   * @see RFC 8705 §2, §3, §5
   */
  mtls?: MtlsOptions
  /**
   * `'fapi2-security'`: the FAPI 2.0 Security Profile as a preset. `auth()` refuses whatever the
   * profile forbids a client, naming the rule (https only; `dpop` or `mtls`; private_key_jwt or
   * mTLS client authentication, no secrets; PS256, ES256 or EdDSA), and the callback requires the
   * RFC 9207 `iss` parameter and a FAPI algorithm on the ID token. `'fapi2-message-signing'`: all
   * that, and FAPI 2.0 Message Signing's signed requests (`requestObjectSigningKey`, JAR) and
   * signed responses (`responseMode: 'jwt'`, JARM), each refused by name when missing. See the
   * README's "FAPI 2.0".
   */
  profile?: ProfileName
  /**
   * `'jwt'`: JARM, the OP signs its authorization responses. The pushed request asks for
   * `response_mode=jwt`; the callback then takes only `response=<JWT>`, verified against the OP's
   * keys (the algorithms of its `authorization_signing_alg_values_supported`, never `none` or
   * HMAC) with `iss`, `aud` and `exp` checked, and refuses a plain `code=` callback. An OP without
   * `jwt` in `response_modes_supported` is refused at the first login. Default `'query'`.
   *
   * @example
   * auth({ ..., requestObjectSigningKey, responseMode: 'jwt', profile: 'fapi2-message-signing' })
   * @see JARM (JWT Secured Authorization Response Mode) §2.3.4; FAPI 2.0 Message Signing §5.4
   */
  responseMode?: ResponseMode
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
  /** As the pushed request carries them: strings (numbers in decimal, JSON parameters as JSON text). */
  readonly authorizationParams: Readonly<Record<string, string>> & { scope: string }
  readonly routes: Readonly<{ login: string | false; callback: string; logout: string | false; postLogoutRedirect: string; jwks: string | false; backchannelLogout: string | false }>
  readonly redirectUri: string
  readonly httpTimeout: number
  readonly clockTolerance: number
  readonly idpLogout: boolean
  readonly backchannelLogout: boolean
  readonly afterCallback: AfterCallback | undefined
  readonly allowInsecureRequests: boolean
  readonly lifetimes: Lifetimes
  readonly coordination: Coordination
  readonly name: string
  /** Set when DPoP is on. */
  readonly dpop: DPoPConfig | undefined
  /** Set when mutual TLS is on. */
  readonly mtls: MtlsConfig | undefined
  /** Set with `profile`. */
  readonly profile: ProfileConfig | undefined
  /** `'jwt'` with JARM. */
  readonly responseMode: ResponseMode
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
