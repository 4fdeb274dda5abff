/**
 * Every failure express-par reports is an {@link ExpressParError}: it reaches the app's Express
 * error handler through `next(err)` with an HTTP `status` (and `statusCode`), a stable `code` to
 * branch on, a message that says what to do, and the underlying error as `cause`.
 *
 * Branch on `code`, not on `instanceof`: codes survive duplicated copies of the package.
 */

/** The stable error codes, with the HTTP status each one carries. */
export const ERROR_STATUS = {
  /** `auth()` options are missing, unknown or unusable. Thrown from `auth()` itself. */
  ERR_CONFIG_INVALID: 500,
  /** No `req.session`: express-session is not registered before `auth()`, or its store reported a disconnect. */
  ERR_SESSION_MISSING: 500,
  /** The session store failed to save, regenerate or destroy the session. */
  ERR_SESSION_STORE: 500,
  /** The coordination store (`coordination`, e.g. Redis) failed or did not answer within `httpTimeout`. */
  ERR_COORDINATION_FAILED: 500,
  /** `afterCallback` returned something other than the record to store. */
  ERR_AFTER_CALLBACK_INVALID: 500,
  /** `res.oidc.login()` was given authorization parameters express-par controls or refuses. */
  ERR_LOGIN_OPTIONS_INVALID: 500,

  /** The callback's query is malformed: missing, duplicated or unexpected parameters. */
  ERR_CALLBACK_INVALID: 400,
  /** No login is pending in this browser session for the callback's `state`. */
  ERR_LOGIN_NOT_PENDING: 400,
  /** The pending login for this `state` is older than its time to live. */
  ERR_LOGIN_EXPIRED: 400,
  /** The callback's `iss` is missing or names another issuer (RFC 9207, mix-up defence), also inside a JARM response. */
  ERR_ISSUER_MISMATCH: 400,
  /** The JARM response (`response=<JWT>`, `responseMode: 'jwt'`) failed validation: signature, algorithm, key, `typ`, `aud`, `exp`, `nbf`. */
  ERR_JARM_INVALID: 400,
  /** The OP answered the authorization request with `error=...` (e.g. `access_denied`). */
  ERR_LOGIN_REFUSED: 400,
  /** The token endpoint refused the authorization code (`invalid_grant`): forged, replayed or expired. */
  ERR_CODE_REJECTED: 400,

  /** `POST routes.backchannelLogout`: not a form-encoded body with exactly one `logout_token`, or larger than the limit. */
  ERR_BACKCHANNEL_REQUEST_INVALID: 400,
  /** The logout token failed validation: signature, `typ`, `iss`, `aud`, timestamps, `events`, `sid`/`sub`, `nonce`. */
  ERR_LOGOUT_TOKEN_INVALID: 400,
  /** The logout token's `jti` was accepted before (on any instance sharing `coordination`). */
  ERR_LOGOUT_TOKEN_REPLAYED: 400,

  /** `requiresAuth()` on a request that is not a browser navigation, without a logged-in user; `req.oidc.fetch()` or `refresh()` without a login. */
  ERR_UNAUTHENTICATED: 401,
  /** The access token expired (or is needed) and the login has no refresh token to renew it. */
  ERR_REFRESH_UNAVAILABLE: 401,
  /** The OP refused the refresh token (`invalid_grant`): the grant is gone, and the login was ended. */
  ERR_REFRESH_REJECTED: 401,

  /** `routes.logout` asked by another site (or by a browser that cannot say, on a GET): the session stays. */
  ERR_LOGOUT_CROSS_SITE: 403,

  /** The OP's discovery document could not be fetched or is not trustworthy. */
  ERR_DISCOVERY_FAILED: 502,
  /** The OP does not advertise a `pushed_authorization_request_endpoint`. */
  ERR_PAR_UNSUPPORTED: 502,
  /** The PAR endpoint answered with an error or a malformed response. */
  ERR_PAR_FAILED: 502,
  /** The token endpoint answered with an error other than `invalid_grant`. */
  ERR_TOKEN_REQUEST_FAILED: 502,
  /** The token endpoint's response is malformed. */
  ERR_TOKEN_RESPONSE_INVALID: 502,
  /** The ID token failed validation: signature, issuer, audience, nonce, timestamps. */
  ERR_ID_TOKEN_INVALID: 502,
  /** DPoP is on, but the OP answered the token or refresh request with a token that is not DPoP-bound (`token_type` other than DPoP). */
  ERR_DPOP_DOWNGRADE: 502,

  /** `idpLogout` is on but the OP advertises no `end_session_endpoint` (the local session did end). */
  ERR_IDP_LOGOUT_UNSUPPORTED: 502,

  /** The OP could not be reached at all (connection refused or reset) during PAR or the token request. */
  ERR_OP_UNREACHABLE: 502,

  /** The OP's authorization endpoint answered `error=server_error` or `temporarily_unavailable`. */
  ERR_OP_SERVER_ERROR: 502,

  /** `req.oidc.fetch()` could not reach the resource server (its answers, any status, are returned as they are). */
  ERR_RESOURCE_UNREACHABLE: 502,

  /** The OP did not answer within `httpTimeout`. */
  ERR_OP_TIMEOUT: 504,
  /** `req.oidc.fetch()`: the resource server did not answer within `httpTimeout`. */
  ERR_RESOURCE_TIMEOUT: 504,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export interface ExpressParErrorOptions {
  cause?: unknown
  /** The OP's own `error` value, when the OP sent one. */
  error?: string
  /** The OP's own `error_description`, when the OP sent one. Never rendered by express-par. */
  errorDescription?: string
}

/**
 * The one error class express-par raises.
 *
 * @example
 * ```ts
 * app.use((err, req, res, next) => {
 *   if (err.code === 'ERR_LOGIN_REFUSED') return res.status(400).send('Login was cancelled.')
 *   res.status(err.status ?? 500).send('Something went wrong.')
 * })
 * ```
 */
export class ExpressParError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly statusCode: number
  /** The OP's `error` parameter, if the OP sent one (e.g. `access_denied`, `invalid_grant`). */
  readonly error?: string
  /** The OP's `error_description`, if any. Attacker-controllable on the callback: never render it as HTML. */
  readonly errorDescription?: string

  constructor(code: ErrorCode, message: string, options: ExpressParErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = this.constructor.name
    this.code = code
    this.status = ERROR_STATUS[code]
    this.statusCode = this.status
    if (options.error !== undefined) this.error = options.error
    if (options.errorDescription !== undefined) this.errorDescription = options.errorDescription
  }
}

/** Shorthand for `new ExpressParError(...)`. */
export function parError(code: ErrorCode, message: string, options?: ExpressParErrorOptions): ExpressParError {
  return new ExpressParError(code, message, options)
}
