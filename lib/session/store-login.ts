/**
 * Storing a validated login: the session gets a new id (session fixation), the other instances'
 * logins and every pending login are carried into it (pending ones only to return to their page),
 * `afterCallback` runs, and the login is indexed for back-channel logout before it is saved. And
 * the claim that lets one login finish per pre-login session.
 */

import { randomUUID } from 'node:crypto'
import type { Request, Response } from 'express'
import type { StoredAuth } from '../config/options.js'
import { parError } from '../errors.js'
import type { DPoPKeyRecord } from '../op/dpop.js'
import type { Runtime } from '../runtime.js'
import { digest } from './digest.js'
import { nowSeconds } from './lifetimes.js'
import { indexLogin, opSessionOf, reindexCarriedLogins } from './login-index.js'
import { PENDING_LOGIN_TTL_MS, remainingPendingLogins, returnOnly } from './pending-logins.js'
import { refreshFromStore } from './save-guard.js'
import { storedForm } from './stored-claims.js'
import { ensureInstanceState, pruneInstanceState, type InstanceState } from './state.js'
import { regenerateSession, saveSession } from './store-calls.js'

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
export async function storeLogin(runtime: Runtime, req: Request, res: Response, validated: StoredAuth, dpopKey: DPoPKeyRecord | undefined): Promise<void> {
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
  instance.login = { auth: storedForm(auth), id: randomUUID(), at: now, seen: now, gen: 0, ...(dpopKey && { dpop: dpopKey }), ...(opSession && { opSession }) }
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
 * One login finishes per pre-login session: a second callback of the same session arriving while
 * the first is at the token endpoint would redeem its code too, and the last answer would decide
 * whose account the browser ends up in (a planted pending login could win). The claim is released
 * when the login fails, so the session can log in again; a success moves to a new session id.
 */
export async function claimFinishingLogin(runtime: Runtime, sessionId: string): Promise<{ won: boolean; release(): Promise<void> }> {
  const key = `finishing:${digest(sessionId)}`
  const won = await runtime.coordination.setIfAbsent(key, '1', PENDING_LOGIN_TTL_MS / 1000)
  return { won, release: () => (won ? runtime.coordination.delete(key) : Promise.resolve()) }
}
