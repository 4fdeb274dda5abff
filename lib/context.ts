/**
 * `req.oidc` and `res.oidc`: getters on Express's request and response prototypes, which build a
 * small context for the `auth()` instance in scope (request-scope.ts) when first read. A request
 * that never reads them pays nothing; nothing here parses or verifies a token (the callback
 * stored validated claims), and nothing reads the store.
 */

import { IncomingMessage, ServerResponse } from 'node:http'
import type { NextFunction, Request, Response } from 'express'
import type { IdTokenClaims, UserClaims } from './claims.js'
import type { StoredAuth } from './config/options.js'
import type { AuthorizationDetail } from './op/authorization-details.js'
import { currentScope } from './request-scope.js'
import { startLogin, type LoginOptions } from './routes/login.js'
import { logout, type LogoutOptions } from './routes/logout.js'
import type { Runtime } from './runtime.js'
import { liveLogin } from './session/lifetimes.js'
import type { Login } from './session/state.js'
import { refreshLogin } from './session/refresh.js'
import { idTokenClaimsOf, userClaims } from './session/stored-claims.js'
import { fetchResource, type ResourceRequestInit } from './op/resource.js'

type FetchResponse = globalThis.Response

/** The access token, shaped like express-openid-connect's `req.oidc.accessToken`. */
export interface AccessToken {
  access_token: string
  token_type: string | undefined
  /** Seconds until expiry (0 once expired), or `undefined` if the OP sent no `expires_in`. */
  expires_in: number | undefined
  isExpired(): boolean
  /**
   * Refreshes the tokens now with the refresh token (single-flight: concurrent calls of one
   * session, on any instance, share one refresh grant) and resolves to the new access token.
   */
  refresh(): Promise<AccessToken>
}

function accessTokenOf(runtime: Runtime, req: Request, auth: StoredAuth): AccessToken | undefined {
  if (!auth.accessToken) return undefined
  const expiresAt = auth.expiresAt
  const remaining = () => (expiresAt === undefined ? undefined : Math.max(0, expiresAt - Math.floor(Date.now() / 1000)))
  return {
    access_token: auth.accessToken,
    token_type: auth.tokenType,
    expires_in: remaining(),
    isExpired: () => remaining() === 0,
    refresh: async () => accessTokenOf(runtime, req, (await refreshLogin(runtime, req)).auth)!,
  }
}

/** `req.oidc`: who is logged in at the instance in scope, read lazily from the session. */
export class RequestContext {
  readonly #runtime: Runtime
  readonly #req: Request

  constructor(runtime: Runtime, req: Request) {
    this.#runtime = runtime
    this.#req = req
  }

  /** The live login (lifetimes applied: an expired login is removed here). */
  get #login(): Login | undefined {
    return liveLogin(this.#req.session, this.#runtime.config.name, this.#runtime.config.lifetimes)
  }

  /** Whether the session holds a user who completed a login that has not expired. */
  isAuthenticated(): boolean {
    return this.#login !== undefined
  }

  /** The user's claims from the validated ID token, without protocol claims (`aud`, `nonce`, ...). */
  get user(): UserClaims | undefined {
    const claims = this.#login?.auth.claims
    // A copy (the app may change it), still without protocol claims if the session predates
    // stored-claims.ts or afterCallback added some.
    return claims === undefined ? undefined : (userClaims(claims) as UserClaims)
  }

  /** The raw ID token. */
  get idToken(): string | undefined {
    return this.#login?.auth.idToken
  }

  /** All claims of the validated ID token (the protocol claims read from the stored token). */
  get idTokenClaims(): IdTokenClaims | undefined {
    const auth = this.#login?.auth
    return auth === undefined ? undefined : (idTokenClaimsOf(auth) as IdTokenClaims)
  }

  get accessToken(): AccessToken | undefined {
    const login = this.#login
    return login === undefined ? undefined : accessTokenOf(this.#runtime, this.#req, login.auth)
  }

  get refreshToken(): string | undefined {
    return this.#login?.auth.refreshToken
  }

  /**
   * The `authorization_details` the token response granted (RFC 9396 §7), e.g. the payment the user
   * consented to; a refresh that grants new ones replaces them. `undefined` when none were granted.
   */
  get authorizationDetails(): AuthorizationDetail[] | undefined {
    return this.#login?.auth.authorizationDetails
  }

  /**
   * Calls a resource server with the user's access token, refreshing it first when it has expired
   * or expires within `clockTolerance`. Resolves to the resource server's `Response`.
   *
   * @example
   * const answer = await req.oidc.fetch('https://api.example.com/accounts')
   */
  fetch(url: string | URL, init?: ResourceRequestInit): Promise<FetchResponse> {
    return fetchResource(this.#runtime, this.#req, url, init)
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

/** The object right above Node's own prototype in `object`'s chain: Express's `request` / `response`. */
function expressPrototype(object: object, nodePrototype: object): object | undefined {
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto)) {
    if (Object.getPrototypeOf(proto) === nodePrototype) return proto
  }
  return undefined
}

/** Defines `oidc` on `proto` as a getter; assigning `oidc` (another library, a test) shadows it with a plain value. */
function defineOidc(proto: object, get: (this: object) => unknown): void {
  if (Object.hasOwn(proto, 'oidc')) return
  Object.defineProperty(proto, 'oidc', {
    configurable: true,
    get,
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'oidc', { value, writable: true, configurable: true, enumerable: true })
    },
  })
}

function requestContext(this: object): RequestContext | undefined {
  const scope = currentScope(this)
  if (scope === undefined) return undefined
  return (scope.request ??= new RequestContext(scope.runtime, this as Request)) as RequestContext
}

function responseContext(this: object): ResponseContext | undefined {
  const req = (this as Response).req
  const scope = req === undefined ? undefined : currentScope(req)
  if (scope === undefined) return undefined
  return (scope.response ??= new ResponseContext(scope.runtime, req, this as Response, scope.next)) as ResponseContext
}

let lastRequestPrototype: object | undefined

/**
 * Makes `req.oidc` / `res.oidc` available on requests of this Express (once per Express copy;
 * a request whose prototype was seen before costs one comparison).
 */
export function installContextGetters(req: Request, res: Response): void {
  const proto = Object.getPrototypeOf(req)
  if (proto === lastRequestPrototype) return
  const requestProto = expressPrototype(req, IncomingMessage.prototype) ?? req
  const responseProto = expressPrototype(res, ServerResponse.prototype) ?? res
  defineOidc(requestProto, requestContext)
  defineOidc(responseProto, responseContext)
  if (requestProto !== req) lastRequestPrototype = proto
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by express-par's `auth()`: the login of the instance in scope. */
      readonly oidc: RequestContext
    }
    interface Response {
      /** Set by express-par's `auth()`. */
      readonly oidc: ResponseContext
    }
  }
}
