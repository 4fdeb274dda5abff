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

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import type { StoredAuth } from '../config/options.js'
import { parError } from '../errors.js'
import { claimDetails, observed } from '../events.js'
import { idTokenClaimsOf } from '../session/stored-claims.js'
import { checkIdToken, claimsToStore } from '../op/id-token.js'
import { callbackResponseError, opError } from '../op/op-errors.js'
import { rawQuery, single } from '../http/query.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { saveSession } from '../session/store-calls.js'
import { PENDING_LOGIN_TTL_MS, consumePendingLogin, type PendingLogin } from '../session/pending-logins.js'
import { digest } from '../session/digest.js'
import { checkSenderConstraint, dpopOptions } from '../op/dpop.js'
import { checkIdTokenAlg } from '../config/profile.js'
import { liveLogin } from '../session/lifetimes.js'
import { instanceState, pruneInstanceState } from '../session/state.js'
import { claimFinishingLogin, storeLogin } from '../session/store-login.js'
import { silentLoginDeclined } from '../session/silent-login.js'
import { jarmExpectations, jarmState, verifyJarmResponse } from '../op/jarm.js'
import { grantedAuthorizationDetails } from '../op/authorization-details.js'
import { opMetadata } from '../op/metadata.js'

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
  const advertised: oauth.AuthorizationServer = opMetadata(op)
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
  await checkIdToken(tokens.id_token, claims, runtime.jwks, opMetadata(op).id_token_signing_alg_values_supported, config)
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

async function finishLogin(runtime: Runtime, req: Request, res: Response): Promise<StoredAuth | undefined> {
  const received = rawQuery(req)
  const state = callbackState(runtime, received)
  const login = await takePendingLogin(runtime, req, state)
  if (login.c) return returnWithoutLogin(runtime, req, res, login)
  const finishing = await claimFinishingLogin(runtime, req.sessionID)
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
    await storeLogin(runtime, req, res, auth, login.d)
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
    observed('callback', runtime, req, () => finishLogin(runtime, req, res), { after: (auth) => claimDetails(auth && idTokenClaimsOf(auth)) }).catch(next)
  }
}
