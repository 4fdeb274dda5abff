/**
 * `req.oidc` and `res.oidc`: small objects made on every request, whose members read the session
 * only when asked. Nothing here parses or verifies a token: the callback stored validated claims.
 */

import type { NextFunction, Request, Response } from 'express'
import type { StoredAuth } from './config/options.js'
import { startLogin, type LoginOptions } from './routes/login.js'
import { logout, type LogoutOptions } from './routes/logout.js'
import type { Runtime } from './runtime.js'

/**
 * ID token claims about the protocol rather than the user; left out of `req.oidc.user`. So is
 * `__proto__`: the assignment in `user` would make its value the object's prototype.
 */
const PROTOCOL_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 'at_hash', 'c_hash', 's_hash', 'sid', 'acr', 'amr', 'jti', '__proto__'])

/** The access token, shaped like express-openid-connect's `req.oidc.accessToken`. */
export interface AccessToken {
  access_token: string
  token_type: string | undefined
  /** Seconds until expiry (0 once expired), or `undefined` if the OP sent no `expires_in`. */
  expires_in: number | undefined
  isExpired(): boolean
}

/** `req.oidc`: who is logged in, read lazily from the session. */
export class RequestContext {
  readonly #req: Request

  constructor(req: Request) {
    this.#req = req
  }

  get #auth(): StoredAuth | undefined {
    return this.#req.session?.parAuth
  }

  /** Whether the session holds a user who completed a login. */
  isAuthenticated(): boolean {
    return this.#auth !== undefined
  }

  /** The user's claims from the validated ID token, without protocol claims (`aud`, `nonce`, ...). */
  get user(): Record<string, unknown> | undefined {
    const claims = this.#auth?.claims
    if (!claims) return undefined
    // A plain loop: read on most authenticated requests, so no intermediate arrays (see bench/).
    const user: Record<string, unknown> = {}
    for (const name of Object.keys(claims)) if (!PROTOCOL_CLAIMS.has(name)) user[name] = claims[name]
    return user
  }

  /** The raw ID token. */
  get idToken(): string | undefined {
    return this.#auth?.idToken
  }

  /** All claims of the validated ID token. */
  get idTokenClaims(): Record<string, unknown> | undefined {
    return this.#auth?.claims
  }

  get accessToken(): AccessToken | undefined {
    const auth = this.#auth
    if (!auth?.accessToken) return undefined
    const expiresAt = auth.expiresAt
    const remaining = () => (expiresAt === undefined ? undefined : Math.max(0, expiresAt - Math.floor(Date.now() / 1000)))
    return {
      access_token: auth.accessToken,
      token_type: auth.tokenType,
      expires_in: remaining(),
      isExpired: () => remaining() === 0,
    }
  }

  get refreshToken(): string | undefined {
    return this.#auth?.refreshToken
  }
}

/** `res.oidc`: start a login or a logout from the app's own handlers. */
export class ResponseContext {
  readonly #runtime: Runtime
  readonly #req: Request
  readonly #res: Response
  readonly #next: NextFunction

  constructor(runtime: Runtime, req: Request, res: Response, next: NextFunction) {
    this.#runtime = runtime
    this.#req = req
    this.#res = res
    this.#next = next
  }

  /**
   * Starts a login (PAR) and redirects the browser to the OP. Failures go to `next(err)`: pass the
   * calling handler's `next` so they reach the error handlers of its router (default: the `next`
   * of `auth()`). The promise itself never rejects, so it is safe not to await it.
   *
   * @example
   * app.get('/sign-in', (req, res, next) => res.oidc.login({ returnTo: '/dashboard' }, next))
   */
  login(options?: LoginOptions, next: NextFunction = this.#next): Promise<void> {
    return startLogin(this.#runtime, this.#req, this.#res, options).catch(next)
  }

  /** Ends the session (and, with `idpLogout`, the OP's) and redirects. Failures go to `next(err)`, as with `login`. */
  logout(options?: LogoutOptions, next: NextFunction = this.#next): Promise<void> {
    return logout(this.#runtime, this.#req, this.#res, options).catch(next)
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by express-par's `auth()`. */
      oidc: RequestContext
    }
    interface Response {
      /** Set by express-par's `auth()`. */
      oidc: ResponseContext
    }
  }
}
