/**
 * Refreshing a login's tokens, single-flight: however many requests of one session ask at once,
 * on one instance or several, one refresh grant reaches the OP and all of them use its result. A
 * rotated refresh token is never sent twice (an OP that sees one twice revokes the whole grant).
 *
 * The digest of the refresh token and the login's token generation names the flight. The request that wins `refresh-lock:<digest>` in
 * the coordination store redeems it and publishes the outcome under `refresh-result:<digest>`;
 * the others (and late requests still holding the old refresh token) read that outcome instead
 * of redeeming the token again. Within one process the flight is also shared as a promise.
 */

import type { Request } from 'express'
import { ExpressParError, parError, type ErrorCode } from '../errors.js'
import { claimDetails, observed } from '../events.js'
import { claimsOfLogin } from './stored-claims.js'
import { endsLogin, refreshGrant, type RefreshedTokens } from '../op/refresh-grant.js'
import type { Runtime } from '../runtime.js'
import { digest } from './digest.js'
import { liveLogin } from './lifetimes.js'
import { removeLogin, storedLogin, type Login } from './state.js'
import { saveSession } from './store-calls.js'

/** What a flight ends with, as published to the other requests (plain JSON). */
type Outcome =
  | { ok: true; tokens: RefreshedTokens; gen: number }
  | { ok: false; code: ErrorCode; message: string; error?: string; endsLogin: boolean }

/** How long the outcome stays readable: longer than any request holding the old token lives. */
const OUTCOME_TTL_S = 300
/** How long an OP failure is shared before another refresh may be tried. */
const FAILURE_TTL_S = 2
const POLL_MS = 25

const flights = new WeakMap<Runtime, Map<string, Promise<Outcome>>>()

function toOutcome(err: unknown): Outcome {
  if (!(err instanceof ExpressParError)) throw err
  return { ok: false, code: err.code, message: err.message, ...(err.error !== undefined && { error: err.error }), endsLogin: endsLogin(err) }
}

async function redeem(runtime: Runtime, login: Login): Promise<Outcome> {
  try {
    return { ok: true, tokens: await refreshGrant(runtime, login.auth, login.dpop), gen: login.gen + 1 }
  } catch (err) {
    return toOutcome(err)
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs or joins the flight for `login`'s refresh token across instances. */
async function fly(runtime: Runtime, key: string, login: Login): Promise<Outcome> {
  const { coordination, config } = runtime
  const lockSeconds = Math.ceil((2 * config.httpTimeout) / 1000) + 1
  const deadline = Date.now() + lockSeconds * 2000
  for (;;) {
    const published = await coordination.get(`refresh-result:${key}`)
    if (published !== undefined) return JSON.parse(published) as Outcome
    if (await coordination.setIfAbsent(`refresh-lock:${key}`, '1', lockSeconds)) {
      const outcome = await redeem(runtime, login)
      // An OP that is down or slow is not the grant's end: its failure is shared only briefly
      // (the waiting requests report it too), then the next request may try again.
      const final = outcome.ok || outcome.endsLogin
      await coordination.setIfAbsent(`refresh-result:${key}`, JSON.stringify(outcome), final ? OUTCOME_TTL_S : FAILURE_TTL_S)
      if (!final) await coordination.delete(`refresh-lock:${key}`)
      return outcome
    }
    if (Date.now() > deadline) {
      throw parError('ERR_OP_TIMEOUT', `Another instance has been refreshing this session's tokens for over ${lockSeconds * 2} s without publishing a result. Check the OP and the coordination store.`)
    }
    await sleep(POLL_MS)
  }
}

/** Joins this process's flight for `key`, or starts one. */
function sharedFlight(runtime: Runtime, key: string, login: Login): Promise<Outcome> {
  let inProcess = flights.get(runtime)
  if (inProcess === undefined) flights.set(runtime, (inProcess = new Map()))
  let flight = inProcess.get(key)
  if (flight === undefined) {
    flight = fly(runtime, key, login).finally(() => inProcess.delete(key))
    inProcess.set(key, flight)
  }
  return flight
}

function failure(outcome: Extract<Outcome, { ok: false }>): ExpressParError {
  return parError(outcome.code, outcome.message, outcome.error === undefined ? {} : { error: outcome.error })
}

/**
 * Refreshes the tokens of the instance's login in `req.session` and stores them. `invalid_grant`
 * or an untrustworthy refreshed ID token ends the login (saved, so on every instance); an OP that
 * is down or slow leaves the session as it was. Resolves to the updated login.
 */
export function refreshLogin(runtime: Runtime, req: Request): Promise<Login> {
  return observed('refresh', runtime, req, () => refreshTokens(runtime, req), {
    before: () => claimDetails(claimsOfLogin(storedLogin(req.session, runtime.config.name))),
  })
}

async function refreshTokens(runtime: Runtime, req: Request): Promise<Login> {
  const { name, lifetimes } = runtime.config
  const login = liveLogin(req.session, name, lifetimes)
  if (login === undefined) throw parError('ERR_UNAUTHENTICATED', 'There is no login to refresh: log in first.')
  const refreshToken = login.auth.refreshToken
  if (!refreshToken) {
    throw parError(
      'ERR_REFRESH_UNAVAILABLE',
      'The login has no refresh token, so its access token cannot be renewed: ask for one (scope `offline_access`, or the OP\'s own rule) or log in again.',
    )
  }
  // One flight per refresh token and token generation: a stale copy of the session (older
  // generation) joins the flight that replaced it, and an OP that keeps the refresh token (no
  // rotation) still gets a new grant for the next generation.
  const outcome = await sharedFlight(runtime, digest(`${login.gen}:${refreshToken}`), login)
  const current = liveLogin(req.session, name, lifetimes)
  if (current?.id !== login.id) throw parError('ERR_UNAUTHENTICATED', 'The login ended while its tokens were being refreshed: log in again.')
  if (!outcome.ok) {
    if (outcome.endsLogin) {
      removeLogin(req.session, name)
      await saveSession(req)
    }
    throw failure(outcome)
  }
  if (outcome.gen > current.gen) {
    current.auth = { ...current.auth, ...outcome.tokens }
    current.gen = outcome.gen
    await saveSession(req)
  }
  return current
}
