/**
 * Starting a login (RFC 9126 PAR + RFC 7636 PKCE S256 + state + nonce):
 * fresh secrets (and, with DPoP, a fresh key pair) -> the parameters as strings (JSON ones such
 * as RFC 9396 `authorization_details` as JSON text; with JARM, `response_mode=jwt`) ->
 * (JAR, RFC 9101: wrap the parameters in a signed request object) -> push the authorization request to the OP with client authentication
 * (and a DPoP proof, which binds the code to the key: RFC 9449 §10.1) ->
 * record the pending login in the session -> save -> redirect with only client_id + request_uri.
 */

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import { authorizationParamsProblem, serialisedAuthorizationParams } from '../config/authorization-params.js'
import type { AuthorizationParams } from '../config/options.js'
import { parError } from '../errors.js'
import { observed } from '../events.js'
import { opError } from '../op/op-errors.js'
import { pushAuthorizationRequest } from '../op/par.js'
import { single, rawQuery } from '../http/query.js'
import { requestObjectParameters } from '../op/request-object.js'
import { dpopOptions, newDPoPKey } from '../op/dpop.js'
import { safeReturnTo } from '../http/return-to.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { saveSession } from '../session/store-calls.js'
import { PENDING_LOGIN_TTL_MS, addPendingLogin, consumePendingLogin } from '../session/pending-logins.js'
import { cameWithRequest, guardSessionSave } from '../session/save-guard.js'
import { ensureInstanceState, holdsOnlyPendingLogins, pruneInstanceState } from '../session/state.js'

export interface LoginOptions {
  /** Same-origin path to land on after login; anything else falls back to `/`. */
  returnTo?: string
  /** Extra authorization parameters for this login, merged over `auth({ authorizationParams })`. */
  authorizationParams?: AuthorizationParams
}

/** What express-par itself may add to a login: `silent` marks `attemptSilentLogin()`'s `prompt=none` logins. */
interface InternalLoginOptions {
  silent?: boolean
}

/** Starts a login (see the file comment), publishing its outcome on `express-par:login`. */
export function startLogin(runtime: Runtime, req: Request, res: Response, options: LoginOptions = {}, internal: InternalLoginOptions = {}): Promise<void> {
  return observed('login', runtime, req, () => pushLogin(runtime, req, res, options, internal))
}

async function pushLogin(runtime: Runtime, req: Request, res: Response, options: LoginOptions, internal: InternalLoginOptions): Promise<void> {
  const { config } = runtime
  if (req.session === undefined) {
    throw parError(
      'ERR_SESSION_MISSING',
      'A login needs the request\'s session to record the pending login, and this request has none: it was destroyed (req.session.destroy()) earlier in the request. Use req.session.regenerate() to start over with a new session, or start the login in the next request.',
    )
  }
  const extra = options.authorizationParams ?? {}
  const problem = authorizationParamsProblem(extra)
  if (problem) throw parError('ERR_LOGIN_OPTIONS_INVALID', `res.oidc.login({ authorizationParams }): ${problem}`)
  const returnTo = safeReturnTo(options.returnTo, config.baseURL)

  const op = await runtime.op()
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const dpopKey = config.dpop && (await newDPoPKey(config.dpop)) // one key per login, never reused
  const parameters: Record<string, string> = {
    ...config.authorizationParams,
    ...serialisedAuthorizationParams(extra),
    response_type: 'code',
    ...(config.responseMode === 'jwt' && { response_mode: 'jwt' }),
    redirect_uri: config.redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }

  let pushed: URLSearchParams | Record<string, string> = parameters
  try {
    if (config.requestObjectKey) pushed = await requestObjectParameters(op, config.requestObjectKey, parameters)
  } catch (err) {
    throw opError(err, 'par', config.httpTimeout)
  }
  const authorizationUrl = await pushAuthorizationRequest(runtime, op, pushed, dpopKey)

  const maxAge = parameters.max_age === undefined ? undefined : Number(parameters.max_age)
  // Another tab may be starting a login in the same session right now: keep its pending login.
  if (cameWithRequest(req)) guardSessionSave(req)
  const instance = ensureInstanceState(req.session, config.name)
  addPendingLogin(instance, state, { codeVerifier, nonce, returnTo, maxAge, dpopKey, silent: internal.silent })
  boundPreLoginSession(req)
  try {
    await saveSession(req)
  } catch (err) {
    consumePendingLogin(instance, state) // undone in memory too: a later save cannot store a login the browser never started
    pruneInstanceState(req.session, config.name)
    throw err
  }
  redirect(res, authorizationUrl.href)
}

/**
 * How long a session that holds nothing but pending logins lives: their lifetime, and two minutes
 * more so that a callback arriving just too late is told its login expired, not that it is unknown.
 */
export const PRE_LOGIN_SESSION_MS = PENDING_LOGIN_TTL_MS + 2 * 60 * 1000

/**
 * A session that holds nothing but pending logins (a cookieless `/login`, a bot following links)
 * lives no longer than they do, in every store: its cookie, from which stores take their expiry,
 * gets {@link PRE_LOGIN_SESSION_MS}. The callback's new session gets the app's cookie settings again.
 */
function boundPreLoginSession(req: Request): void {
  if (!holdsOnlyPendingLogins(req.session)) return
  const cookie = req.session.cookie
  if (typeof cookie.maxAge !== 'number' || cookie.maxAge > PRE_LOGIN_SESSION_MS) cookie.maxAge = PRE_LOGIN_SESSION_MS
}

/** `GET routes.login[?returnTo=/path]` */
export function loginRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    startLogin(runtime, req, res, { returnTo: single(rawQuery(req), 'returnTo') }).catch(next)
  }
}
