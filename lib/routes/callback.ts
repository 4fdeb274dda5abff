/**
 * Finishing a login: consume the pending login for `state` (one-time, before anything else) ->
 * check the authorization response (RFC 9207 `iss`, `error`) -> redeem the code with the PKCE
 * verifier and check the ID token (signature against the OP's JWKS, `iss`, `aud`, `nonce`,
 * timestamps) -> regenerate the session id -> store the user (with `backchannelLogout`, indexed by
 * its `sid` and `sub` first: login-index.ts) -> redirect to `returnTo`.
 */

import { randomUUID } from 'node:crypto'
import type { Request, Response } from 'express'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { Config, StoredAuth } from '../config/options.js'
import { parError } from '../errors.js'
import { callbackResponseError, opError } from '../op/op-errors.js'
import { rawQuery, single } from '../http/query.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { regenerateSession, saveSession } from '../session/store-calls.js'
import { PENDING_LOGIN_TTL_MS, consumePendingLogin, remainingPendingLogins, type PendingLogin } from '../session/pending-logins.js'
import { digest } from '../session/digest.js'
import { nowSeconds } from '../session/lifetimes.js'
import { ensureInstanceState, instanceState, pruneInstanceState, type InstanceState } from '../session/state.js'
import { indexLogin, opSessionOf } from '../session/login-index.js'
import { silentLoginDeclined } from '../session/silent-login.js'

const notPending = () =>
  parError(
    'ERR_LOGIN_NOT_PENDING',
    'No login is pending in this browser session for the callback\'s state: it was already used, forged, or started in another browser. Start the login again.',
  )

/**
 * Takes the pending login named by the callback's `state` out of the session, and claims the
 * state in the coordination store: of two identical callbacks, even on two instances sharing a
 * session store, exactly one goes on to the token endpoint.
 */
async function takePendingLogin(runtime: Runtime, req: Request, params: URLSearchParams): Promise<{ state: string; login: PendingLogin }> {
  const state = single(params, 'state')
  if (state === undefined) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single `state` parameter. Start the login again from the login route.')
  }
  const name = runtime.config.name
  const instance = instanceState(req.session, name)
  const taken = instance === undefined ? ({ status: 'missing' } as const) : consumePendingLogin(instance, state)
  if (taken.status === 'missing') throw notPending()
  pruneInstanceState(req.session, name)
  await saveSession(req) // the login is spent even if what follows fails: a replay never reaches the OP
  if (!(await runtime.coordination.setIfAbsent(`callback:${digest(state)}`, '1', PENDING_LOGIN_TTL_MS / 1000))) throw notPending()
  if (taken.status === 'expired') throw parError('ERR_LOGIN_EXPIRED', 'The pending login expired before the OP sent the browser back. Start the login again.')
  return { state, login: taken.login }
}

/** RFC 9207 `iss`, `state` and `error=` of the authorization response, before any token request. */
function checkAuthorizationResponse(op: client.Configuration, params: URLSearchParams, state: string): void {
  try {
    oauth.validateAuthResponse(op.serverMetadata(), op.clientMetadata(), params, state)
  } catch (err) {
    throw callbackResponseError(err)
  }
  if (!single(params, 'code')) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single, non-empty `code` parameter. Start the login again.')
  }
}

/** An `iat` in the future beyond `clockTolerance` means a forged token or a broken OP clock. */
function checkIssuedAt(claims: Record<string, unknown>, config: Config): void {
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims.iat === 'number' && claims.iat > now + config.clockTolerance) {
    throw parError('ERR_ID_TOKEN_INVALID', `The ID token's iat is ${claims.iat - now} s in the future, beyond clockTolerance (${config.clockTolerance} s). Check the OP's clock.`)
  }
}

async function redeemCode(runtime: Runtime, op: client.Configuration, params: URLSearchParams, state: string, login: PendingLogin): Promise<StoredAuth> {
  const { config } = runtime
  const currentUrl = new URL(config.redirectUri)
  currentUrl.search = params.toString()
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>
  try {
    tokens = await client.authorizationCodeGrant(op, currentUrl, {
      pkceCodeVerifier: login.v,
      expectedState: state,
      expectedNonce: login.n,
      idTokenExpected: true,
      ...(login.m !== undefined && { maxAge: login.m }),
    })
  } catch (err) {
    throw opError(err, 'token', config.httpTimeout, op.serverMetadata().jwks_uri)
  }
  const claims = tokens.claims()
  if (!claims || !tokens.id_token) throw parError('ERR_ID_TOKEN_INVALID', 'The token response has no ID token.')
  checkIssuedAt(claims, config)
  const expiresIn = tokens.expiresIn()
  return {
    idToken: tokens.id_token,
    claims: { ...claims },
    ...(tokens.access_token && { accessToken: tokens.access_token, tokenType: tokens.token_type }),
    ...(expiresIn !== undefined && { expiresAt: Math.floor(Date.now() / 1000) + expiresIn }),
    ...(tokens.refresh_token && { refreshToken: tokens.refresh_token }),
    ...(tokens.scope && { scope: tokens.scope }),
  }
}

/** `afterCallback` must hand back a record to store; anything else would store a user-less login. */
async function applyAfterCallback(runtime: Runtime, req: Request, res: Response, auth: StoredAuth): Promise<StoredAuth> {
  const hook = runtime.config.afterCallback
  if (!hook) return auth
  const result = await hook(req, res, auth)
  if (typeof result?.idToken !== 'string' || typeof result.claims !== 'object' || result.claims === null) {
    throw parError('ERR_AFTER_CALLBACK_INVALID', 'afterCallback must return the record to store (at least `idToken` and `claims`): return the `auth` argument, changed or not.')
  }
  return result
}

/**
 * What survives the new session id: this instance's other pending logins (tabs), and the other
 * instances' state (their logins and pending logins). Everything else of the pre-login session
 * is dropped.
 */
function carriedState(runtime: Runtime, req: Request): Record<string, InstanceState> | undefined {
  const all = req.session.expressPar
  if (all === undefined) return undefined
  const carried: Record<string, InstanceState> = {}
  for (const [name, state] of Object.entries(all)) {
    if (name !== runtime.config.name) carried[name] = state
    else if (remainingPendingLogins(state)) carried[name] = { pending: remainingPendingLogins(state)! }
  }
  return Object.keys(carried).length > 0 ? carried : undefined
}

/**
 * New session id for the logged-in user (session fixation); other pending logins (tabs) and other
 * instances' logins survive. `afterCallback` runs in the new session, so what it writes to
 * `req.session` is kept.
 */
async function storeUser(runtime: Runtime, req: Request, res: Response, validated: StoredAuth): Promise<void> {
  const carried = carriedState(runtime, req)
  await regenerateSession(req)
  if (carried) req.session.expressPar = carried
  const auth = await applyAfterCallback(runtime, req, res, validated)
  const instance = ensureInstanceState(req.session, runtime.config.name)
  const now = nowSeconds()
  const opSession = runtime.config.backchannelLogout ? opSessionOf(validated.claims) : undefined
  instance.login = { auth, id: randomUUID(), at: now, seen: now, gen: 0, ...(opSession && { opSession }) }
  try {
    // Indexed before it is stored: a login that a back-channel logout could not find is never stored.
    if (opSession) await indexLogin(runtime, validated.claims.iss as string, opSession, req.sessionID)
    await saveSession(req)
  } catch (err) {
    // express-session saves a regenerated session again when the response ends; without this,
    // that retry could log the user in after the app already answered with the error.
    delete instance.login
    pruneInstanceState(req.session, runtime.config.name)
    throw err
  }
}

async function finishLogin(runtime: Runtime, req: Request, res: Response): Promise<void> {
  const params = rawQuery(req)
  const { state, login } = await takePendingLogin(runtime, req, params)
  const op = await runtime.op()
  try {
    checkAuthorizationResponse(op, params, state)
  } catch (err) {
    // A prompt=none login the OP could not complete without the user: back to the page, anonymous.
    if (silentLoginDeclined(login, err)) return redirect(res, login.r)
    throw err
  }
  const auth = await redeemCode(runtime, op, params, state, login)
  await storeUser(runtime, req, res, auth)
  if (!res.headersSent) redirect(res, login.r) // afterCallback may have answered itself
}

/** `GET routes.callback` */
export function callbackRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    finishLogin(runtime, req, res).catch(next)
  }
}
