/**
 * The types of `auth()`'s options and of the validated configuration: what apps write, and what
 * the rest of express-par reads. `options.ts` checks the one and builds the other.
 */

import type { Request, Response } from 'express'
import type { ClientAuthConfig, ClientAuthMethod } from '../op/client-auth.js'
import type { SigningAlg, SigningKey, SigningKeyInput } from '../op/keys.js'
import type { Coordination } from '../session/coordination.js'
import type { Lifetimes, SessionOptions } from '../session/lifetimes.js'
import type { DPoPConfig, DPoPOption } from '../op/dpop.js'
import type { MtlsConfig, MtlsOptions } from '../op/mtls.js'
import type { ProfileConfig, ProfileName } from './profile.js'
import type { ResponseMode } from '../op/jarm.js'
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
