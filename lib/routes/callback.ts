/**
 * Finishing a login: consume the pending login for `state` (one-time, before anything else) ->
 * check the authorization response (RFC 9207 `iss`, `error`) -> redeem the code with the PKCE
 * verifier and check the ID token (signature against the OP's JWKS, `iss`, `aud`, `nonce`,
 * timestamps) -> regenerate the session id -> store the user -> redirect to `returnTo`.
 */

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { StoredAuth } from '../config/options.js'
import { parError } from '../errors.js'
import { checkIdToken, claimsToStore } from '../op/id-token.js'
import { callbackResponseError, opError } from '../op/op-errors.js'
import { rawQuery, single } from '../http/query.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { regenerateSession, saveSession } from '../session/store-calls.js'
import { consumePendingLogin, remainingPendingLogins, returnOnly, type PendingLogin } from '../session/pending-logins.js'

/** Takes the pending login named by the callback's `state` out of the session. */
async function takePendingLogin(req: Request, params: URLSearchParams): Promise<{ state: string; login: PendingLogin }> {
  const state = single(params, 'state')
  if (state === undefined) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single `state` parameter. Start the login again from the login route.')
  }
  const taken = consumePendingLogin(req.session, state)
  if (taken.status === 'missing') {
    throw parError(
      'ERR_LOGIN_NOT_PENDING',
      'No login is pending in this browser session for the callback\'s state: it was already used, forged, or started in another browser. Start the login again.',
    )
  }
  await saveSession(req) // the login is spent even if what follows fails: a replay never reaches the OP
  if (taken.status === 'expired') throw parError('ERR_LOGIN_EXPIRED', 'The pending login expired before the OP sent the browser back. Start the login again.')
  return { state, login: taken.login }
}

/** RFC 9207 `iss`, `state` and `error=` of the authorization response, before any token request. */
function checkAuthorizationResponse(op: client.Configuration, params: URLSearchParams, state: string): void {
  // RFC 6749 §3.1: no parameter twice, known or not. A repeated one is read as its first value by
  // one component and its last by another (parameter pollution), so the response is refused whole.
  const names = [...params.keys()]
  if (new Set(names).size !== names.length) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback repeats a parameter; each may appear only once (RFC 6749 §3.1). Start the login again.')
  }
  try {
    oauth.validateAuthResponse(op.serverMetadata(), op.clientMetadata(), params, state)
  } catch (err) {
    throw callbackResponseError(err)
  }
  if (!single(params, 'code')) {
    throw parError('ERR_CALLBACK_INVALID', 'The callback has no single, non-empty `code` parameter. Start the login again.')
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
    throw opError(err, 'token', config.httpTimeout)
  }
  const claims = tokens.claims()
  if (!claims || !tokens.id_token) throw parError('ERR_ID_TOKEN_INVALID', 'The token response has no ID token.')
  // openid-client checked the claims; the signature and the rest are checked against the OP's keys.
  await checkIdToken(tokens.id_token, claims, runtime.jwks, op.serverMetadata().id_token_signing_alg_values_supported, config)
  const expiresIn = tokens.expiresIn()
  return {
    idToken: tokens.id_token,
    claims: claimsToStore(claims),
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
 * New session id for the logged-in user (session fixation); other pending logins (tabs) survive,
 * but only to return to their page (`returnOnly`). `afterCallback` runs in the new session, so what
 * it writes to `req.session` is kept.
 */
async function storeUser(runtime: Runtime, req: Request, res: Response, validated: StoredAuth): Promise<void> {
  const otherLogins = remainingPendingLogins(req.session)
  await regenerateSession(req)
  if (otherLogins) req.session.parPending = returnOnly(otherLogins)
  const auth = await applyAfterCallback(runtime, req, res, validated)
  req.session.parAuth = auth
  try {
    await saveSession(req)
  } catch (err) {
    // express-session saves a regenerated session again when the response ends; without this,
    // that retry could log the user in after the app already answered with the error.
    delete req.session.parAuth
    throw err
  }
}

/**
 * A login started before another one finished in this browser: the user is logged in already, so
 * it returns to its page without redeeming its code (which could log in another account).
 */
function returnWithoutLogin(req: Request, res: Response, login: PendingLogin): void {
  if (!req.session.parAuth) {
    throw parError('ERR_LOGIN_NOT_PENDING', 'This login was started before another login in this browser finished, and nobody is logged in now. Start the login again.')
  }
  redirect(res, login.r)
}

async function finishLogin(runtime: Runtime, req: Request, res: Response): Promise<void> {
  const params = rawQuery(req)
  const { state, login } = await takePendingLogin(req, params)
  if (login.c) return returnWithoutLogin(req, res, login)
  const op = await runtime.op()
  checkAuthorizationResponse(op, params, state)
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
