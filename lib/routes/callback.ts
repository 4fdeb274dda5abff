/**
 * Finishing a login: consume the pending login for `state` (one-time, before anything else; with
 * JARM the `state` is read from the signed response without trusting it, only to find the login)
 * -> check the authorization response (with JARM: its signature, `iss`, `aud`, `exp` first, see
 * op/jarm.ts; then RFC 9207 `iss`, `error`) -> redeem the code with the PKCE verifier (and the
 * login's DPoP key) and check the ID token (signature against the OP's JWKS, `iss`, `aud`,
 * `nonce`, timestamps) and the granted RFC 9396 `authorization_details` -> check the tokens are
 * DPoP-bound when DPoP was used -> regenerate the session id -> store the user (with
 * `backchannelLogout`, indexed by its `sid` and `sub` first: login-index.ts) -> redirect to `returnTo`.
 */

import { randomUUID } from 'node:crypto'
import type { Request, Response } from 'express'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { StoredAuth } from '../config/options.js'
import { parError } from '../errors.js'
import { claimDetails, observed } from '../events.js'
import { checkIdToken, claimsToStore } from '../op/id-token.js'
import { callbackResponseError, opError } from '../op/op-errors.js'
import { rawQuery, single } from '../http/query.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { regenerateSession, saveSession } from '../session/store-calls.js'
import { PENDING_LOGIN_TTL_MS, consumePendingLogin, remainingPendingLogins, returnOnly, type PendingLogin } from '../session/pending-logins.js'
import { digest } from '../session/digest.js'
import { checkSenderConstraint, dpopOptions, type DPoPKeyRecord } from '../op/dpop.js'
import { checkIdTokenAlg } from '../config/profile.js'
import { liveLogin, nowSeconds } from '../session/lifetimes.js'
import { ensureInstanceState, instanceState, pruneInstanceState, type InstanceState } from '../session/state.js'
import { indexLogin, opSessionOf, reindexCarriedLogins } from '../session/login-index.js'
import { refreshFromStore } from '../session/save-guard.js'
import { silentLoginDeclined } from '../session/silent-login.js'
import { jarmExpectations, jarmState, verifyJarmResponse } from '../op/jarm.js'
import { grantedAuthorizationDetails } from '../op/authorization-details.js'

const notPending = () =>
  parError(
    'ERR_LOGIN_NOT_PENDING',
    'No login is pending in this browser session for the callback\'s state: it was already used, forged, or started in another browser. Start the login again.',
  )

/**
 * The `state` that names the callback's pending login: with JARM, the one inside the signed
 * response, read without trusting it (the response is verified once its login is spent); else
 * the query's.
 */
function callbackState(runtime: Runtime, params: URLSearchParams): string {
  if (runtime.config.responseMode === 'jwt' && params.has('response')) return jarmState(params)
  const state = single(params, 'state')
  if (state === undefined) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single `state` parameter. Start the login again from the login route.')
  }
  return state
}

/**
 * Takes the pending login named by `state` out of the session, and claims the state in the
 * coordination store: of two identical callbacks, even on two instances sharing a session store,
 * exactly one goes on to the token endpoint.
 */
async function takePendingLogin(runtime: Runtime, req: Request, state: string): Promise<PendingLogin> {
  const name = runtime.config.name
  const instance = instanceState(req.session, name)
  const taken = instance === undefined ? ({ status: 'missing' } as const) : consumePendingLogin(instance, state)
  if (taken.status === 'missing') throw notPending()
  pruneInstanceState(req.session, name)
  await saveSession(req) // the login is spent even if what follows fails: a replay never reaches the OP
  if (!(await runtime.coordination.setIfAbsent(`callback:${digest(state)}`, '1', PENDING_LOGIN_TTL_MS / 1000))) throw notPending()
  if (taken.status === 'expired') throw parError('ERR_LOGIN_EXPIRED', 'The pending login expired before the OP sent the browser back. Start the login again.')
  return taken.login
}

/**
 * The authorization response, before any token request: no parameter twice; with JARM, the
 * signed response verified (op/jarm.ts) and its parameters used from here on; then RFC 9207
 * `iss`, `state` and `error=`, and a code. Returns the parameters the code is redeemed with.
 * With `profile`, `iss` is required even from an OP that does not advertise it.
 */
async function checkAuthorizationResponse(runtime: Runtime, op: client.Configuration, received: URLSearchParams, state: string): Promise<URLSearchParams> {
  const advertised: oauth.AuthorizationServer = op.serverMetadata()
  const server = runtime.config.profile?.requireIssuerParameter ? { ...advertised, authorization_response_iss_parameter_supported: true } : advertised
  // RFC 6749 §3.1: no parameter twice, known or not. A repeated one is read as its first value by
  // one component and its last by another (parameter pollution), so the response is refused whole.
  const names = [...received.keys()]
  if (new Set(names).size !== names.length) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback repeats a parameter; each may appear only once (RFC 6749 §3.1). Start the login again.')
  }
  // JARM: only what the OP signed counts; a plain `code=` callback is refused.
  const params = runtime.config.responseMode === 'jwt' ? await verifyJarmResponse(received, jarmExpectations(runtime, op)) : received
  try {
    oauth.validateAuthResponse(server, op.clientMetadata(), params, state)
  } catch (err) {
    throw callbackResponseError(err)
  }
  if (!single(params, 'code')) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single, non-empty `code` parameter. Start the login again.')
  }
  return params
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
    }, undefined, await dpopOptions(op, login.d))
  } catch (err) {
    throw opError(err, 'token', config.httpTimeout)
  }
  const claims = tokens.claims()
  if (!claims || !tokens.id_token) throw parError('ERR_ID_TOKEN_INVALID', 'The token response has no ID token.')
  // openid-client checked the claims; the signature and the rest are checked against the OP's keys.
  await checkIdToken(tokens.id_token, claims, runtime.jwks, op.serverMetadata().id_token_signing_alg_values_supported, config)
  checkIdTokenAlg(config.profile, tokens.id_token)
  const authorizationDetails = grantedAuthorizationDetails(tokens.authorization_details, 'token')
  const expiresIn = tokens.expiresIn()
  return {
    idToken: tokens.id_token,
    claims: claimsToStore(claims),
    ...(tokens.access_token && { accessToken: tokens.access_token, tokenType: tokens.token_type }),
    ...(expiresIn !== undefined && { expiresAt: Math.floor(Date.now() / 1000) + expiresIn }),
    ...(tokens.refresh_token && { refreshToken: tokens.refresh_token }),
    ...(tokens.scope && { scope: tokens.scope }),
    ...(authorizationDetails && { authorizationDetails }),
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
/**
 * What survives the new session id: the pending logins of this and other instances (tabs), but
 * only to return to their page (`returnOnly`: one of them may have been planted by someone who
 * set this browser's session cookie), and the other instances' logins. Everything else of the
 * pre-login session is dropped.
 */
function carriedState(runtime: Runtime, req: Request): Record<string, InstanceState> | undefined {
  const all = req.session.expressPar
  if (all === undefined) return undefined
  const carried: Record<string, InstanceState> = {}
  for (const [name, state] of Object.entries(all)) {
    const pending = remainingPendingLogins(state)
    const kept: InstanceState = {}
    if (pending) kept.pending = returnOnly(pending)
    if (name !== runtime.config.name && state.login) kept.login = state.login
    if (kept.pending || kept.login) carried[name] = kept
  }
  return Object.keys(carried).length > 0 ? carried : undefined
}

/**
 * New session id for the logged-in user (session fixation); other pending logins (tabs) survive,
 * but only to return to their page, and other instances' logins survive. `afterCallback` runs in
 * the new session, so what it writes to `req.session` is kept.
 */
async function storeUser(runtime: Runtime, req: Request, res: Response, validated: StoredAuth, dpopKey: DPoPKeyRecord | undefined): Promise<void> {
  await refreshFromStore(req) // what other requests changed while the code was redeemed (a logout, a refresh)
  const carried = carriedState(runtime, req)
  await regenerateSession(req)
  if (carried) {
    req.session.expressPar = carried
    await reindexCarriedLogins(carried, runtime.config.name, req.sessionID) // their back-channel logout follows them
  }
  const auth = await applyAfterCallback(runtime, req, res, validated)
  const instance = ensureInstanceState(req.session, runtime.config.name)
  const now = nowSeconds()
  const opSession = runtime.config.backchannelLogout ? opSessionOf(validated.claims) : undefined
  instance.login = { auth, id: randomUUID(), at: now, seen: now, gen: 0, ...(dpopKey && { dpop: dpopKey }), ...(opSession && { opSession }) }
  try {
    // Indexed before it is stored: a login that a back-channel logout could not find is never stored.
    if (opSession) await indexLogin(runtime, opSession, req.sessionID)
    await saveSession(req)
  } catch (err) {
    // express-session saves a regenerated session again when the response ends; without this,
    // that retry could log the user in after the app already answered with the error.
    delete instance.login
    pruneInstanceState(req.session, runtime.config.name)
    throw err
  }
}

/**
 * A login started before another one finished in this browser: the user is logged in already, so
 * it returns to its page without redeeming its code (which could log in another account).
 */
function returnWithoutLogin(runtime: Runtime, req: Request, res: Response, login: PendingLogin): StoredAuth {
  const current = liveLogin(req.session, runtime.config.name, runtime.config.lifetimes)
  if (!current) {
    throw parError('ERR_LOGIN_NOT_PENDING', 'This login was started before another login in this browser finished, and nobody is logged in now. Start the login again.')
  }
  redirect(res, login.r)
  return current.auth
}

/**
 * One login finishes per pre-login session: a second callback of the same session arriving while
 * the first is at the token endpoint would redeem its code too, and the last answer would decide
 * whose account the browser ends up in (a planted pending login could win). The claim is released
 * when the login fails, so the session can log in again; a success moves to a new session id.
 */
async function claimFinish(runtime: Runtime, sessionId: string): Promise<{ won: boolean; release(): Promise<void> }> {
  const key = `finishing:${digest(sessionId)}`
  const won = await runtime.coordination.setIfAbsent(key, '1', PENDING_LOGIN_TTL_MS / 1000)
  return { won, release: () => (won ? runtime.coordination.delete(key) : Promise.resolve()) }
}

async function finishLogin(runtime: Runtime, req: Request, res: Response): Promise<StoredAuth | undefined> {
  const received = rawQuery(req)
  const state = callbackState(runtime, received)
  const login = await takePendingLogin(runtime, req, state)
  if (login.c) return returnWithoutLogin(runtime, req, res, login)
  const finishing = await claimFinish(runtime, req.sessionID)
  if (!finishing.won) return returnWithoutLogin(runtime, req, res, login) // another tab's login is finishing
  try {
    const op = await runtime.op()
    let params: URLSearchParams
    try {
      params = await checkAuthorizationResponse(runtime, op, received, state)
    } catch (err) {
      // A prompt=none login the OP could not complete without the user: back to the page, anonymous.
      if (silentLoginDeclined(login, err)) {
        await finishing.release()
        redirect(res, login.r)
        return undefined
      }
      throw err
    }
    const auth = await redeemCode(runtime, op, params, state, login)
    checkSenderConstraint(auth.tokenType, login.d, 'token') // a proof was sent: a Bearer answer is a downgrade
    await storeUser(runtime, req, res, auth, login.d)
    if (!res.headersSent) redirect(res, login.r) // afterCallback may have answered itself
    return auth
  } catch (err) {
    await finishing.release().catch(() => undefined) // the session may try again; the error is what counts
    throw err
  }
}

/** `GET routes.callback` */
export function callbackRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    observed('callback', runtime, req, () => finishLogin(runtime, req, res), { after: (auth) => claimDetails(auth?.claims) }).catch(next)
  }
}
