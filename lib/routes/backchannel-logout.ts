/**
 * `POST routes.backchannelLogout` (OpenID Connect Back-Channel Logout 1.0): the OP tells the app
 * that a user's session ended. Read the form (size limit first) -> verify the logout token (jose,
 * the OP's JWKS) -> claim its `jti` once across instances -> end every session the login index
 * names for its `sid` or `sub` -> answer by itself: 200 with `Cache-Control: no-store`, or 400 with
 * an OAuth error JSON. Never a 500, never HTML, never the request's text in the answer: the caller
 * is the OP, or anyone on the internet.
 */

import type { Request, Response } from 'express'
import { parError } from '../errors.js'
import { formValues } from '../http/form-body.js'
import { logoutTokenAlgorithms, verifyLogoutToken, type LogoutToken } from '../op/logout-token.js'
import { eventStart, publishEvent } from '../events.js'
import { failure, success, type RouteOutcome } from '../outcome.js'
import type { Runtime } from '../runtime.js'
import { indexedSessions } from '../session/login-index.js'
import { claimLogoutToken, releaseLogoutToken } from '../session/logout-token-replay.js'
import { endStoredLogin } from '../session/stored-logout.js'
import { opMetadata } from '../op/metadata.js'

/** The largest request body read: a logout token is about 1 KB (a PS512 signature with an 8192-bit key stays under 3). */
export const BACKCHANNEL_BODY_LIMIT = 16 * 1024

/** The one `logout_token` of the form (§2.5), refusing a body over the limit before parsing it. */
async function readLogoutToken(req: Request): Promise<string> {
  const values = await formValues(req, 'logout_token', BACKCHANNEL_BODY_LIMIT)
  if (values.length !== 1 || values[0] === '') {
    throw parError('ERR_BACKCHANNEL_REQUEST_INVALID', `The back-channel logout request must carry exactly one non-empty logout_token; it has ${values.length}.`)
  }
  return values[0]!
}

/** A `jti` is accepted once, on every instance sharing the coordination store (§2.6 step 6). */
async function claimOnce(runtime: Runtime, token: LogoutToken): Promise<void> {
  const ttl = token.acceptableUntil - Math.floor(Date.now() / 1000)
  if (!(await claimLogoutToken(runtime, token.iss, token.jti, ttl))) {
    throw parError('ERR_LOGOUT_TOKEN_REPLAYED', 'The logout token was accepted before (its jti is in the replay cache): a replay is refused.')
  }
}

/**
 * Ends this instance's login in every indexed session the token names; a session that is gone,
 * or whose login is not the one named, is left alone. If the store fails half way, the `jti` is
 * released so that the OP's retry is not refused as a replay.
 */
async function endSessions(runtime: Runtime, req: Request, token: LogoutToken): Promise<number> {
  const subject = { ...(token.sid !== undefined && { sid: token.sid }), ...(token.sub !== undefined && { sub: token.sub }) }
  try {
    const store = req.sessionStore
    if (store === undefined) throw parError('ERR_SESSION_MISSING', 'No session store is reachable (express-session reported its store disconnected): no session was ended.')
    const indexed = await indexedSessions(runtime, token.iss, subject)
    let ended = 0
    for (const id of indexed.ids) if (await endStoredLogin(store, id, runtime.config.name, subject)) ended++
    await indexed.forget()
    return ended
  } catch (err) {
    await releaseLogoutToken(runtime, token.iss, token.jti).catch(() => undefined)
    throw err
  }
}

async function receiveLogout(runtime: Runtime, req: Request): Promise<RouteOutcome & { error?: Error }> {
  let sub: string | undefined
  try {
    const logoutToken = await readLogoutToken(req)
    const op = await runtime.op()
    const server = opMetadata(op)
    const token = await verifyLogoutToken(logoutToken, {
      issuer: server.issuer,
      clientID: runtime.config.clientID,
      algorithms: logoutTokenAlgorithms(server, runtime.config.profile),
      clockTolerance: runtime.config.clockTolerance,
      httpTimeout: runtime.config.httpTimeout,
      keys: runtime.jwks.key, // the OP's keys and refetch policy, as for ID tokens (jwks.ts)
    })
    sub = token.sub
    await claimOnce(runtime, token)
    await endSessions(runtime, req, token)
    return success(sub)
  } catch (err) {
    return failure(err, { code: 'ERR_BACKCHANNEL_REQUEST_INVALID', message: 'The back-channel logout failed unexpectedly (see err.cause); no session was ended.' }, sub)
  }
}

const REQUEST_PROBLEMS = new Set(['ERR_BACKCHANNEL_REQUEST_INVALID', 'ERR_LOGOUT_TOKEN_INVALID', 'ERR_LOGOUT_TOKEN_REPLAYED'])

/** What the OP is told: which check failed, or (for the app's own failures) only that nothing was ended. */
function describe(outcome: RouteOutcome & { error?: Error }): string {
  if (outcome.error !== undefined && REQUEST_PROBLEMS.has(outcome.code ?? '')) return outcome.error.message
  return 'The app could not carry out the logout now (its OP discovery, key fetch, coordination or session store failed); no session was ended. Send a new logout token later.'
}

/** The answer to the OP (§2.8): no cache, JSON on failure, no echo of what it sent. */
function answer(res: Response, outcome: RouteOutcome & { error?: Error }): void {
  res.statusCode = outcome.outcome === 'success' ? 200 : 400
  res.setHeader('Cache-Control', 'no-store')
  if (outcome.outcome === 'success') {
    res.setHeader('Content-Length', '0')
    res.end()
    return
  }
  if (outcome.code === 'ERR_BACKCHANNEL_REQUEST_INVALID') res.setHeader('Connection', 'close') // what is left of an oversized body is not read
  const body = JSON.stringify({ error: 'invalid_request', error_description: describe(outcome) })
  res.setHeader('Content-Type', 'application/json')
  res.setHeader('Content-Length', String(Buffer.byteLength(body)))
  res.end(body)
}

/** `POST routes.backchannelLogout` */
export function backchannelLogoutRoute(runtime: Runtime) {
  return (req: Request, res: Response): void => {
    const started = eventStart('backchannel-logout')
    void receiveLogout(runtime, req).then((outcome) => {
      publishEvent('backchannel-logout', runtime, undefined, started, { err: outcome.error, details: outcome.sub === undefined ? undefined : { sub: outcome.sub } })
      try {
        answer(res, outcome)
      } catch {
        res.destroy()
      }
    })
  }
}
