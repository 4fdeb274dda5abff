/**
 * Pending logins, kept server-side in the session (in the instance's state, see state.ts) and keyed by their `state`, so several can be
 * pending at once (two tabs). Each is one-time: {@link consumePendingLogin} removes it before the
 * callback uses it. They expire after {@link PENDING_LOGIN_TTL_MS} and at most
 * {@link MAX_PENDING_LOGINS} are kept per session (the oldest go first).
 *
 * The record is plain JSON with short keys: it lives in every session store and under 512 bytes.
 */

import type { InstanceState } from './state.js'

export const PENDING_LOGIN_TTL_MS = 10 * 60 * 1000
export const MAX_PENDING_LOGINS = 5

/** One pending login, as stored. */
export interface PendingLogin {
  /** PKCE code verifier. */
  v: string
  /** Nonce the ID token must carry. */
  n: string
  /** Same-origin path to return to. */
  r: string
  /** Expiry, milliseconds since the epoch. */
  e: number
  /** The `max_age` the login asked for, when it did: the ID token's `auth_time` must honour it. */
  m?: number
  /** A silent (`prompt=none`) login of `attemptSilentLogin()`: "login required" answers return to `r` quietly. */
  s?: 1
}

/** Drops expired logins, then the oldest beyond the cap (keeping room for `reserve` more). */
function prune(pending: Record<string, PendingLogin>, now: number, reserve: number): void {
  const live = Object.entries(pending).filter(([state, login]) => {
    if (login.e > now) return true
    delete pending[state]
    return false
  })
  live.sort(([, a], [, b]) => a.e - b.e)
  for (let i = 0; i < live.length - (MAX_PENDING_LOGINS - reserve); i++) delete pending[live[i]![0]]
}

/** Records a new pending login under `state`. */
export function addPendingLogin(
  instance: InstanceState,
  state: string,
  login: { codeVerifier: string; nonce: string; returnTo: string; maxAge?: number; silent?: boolean },
  now = Date.now(),
): void {
  const pending = instance.pending ?? {}
  prune(pending, now, 1)
  pending[state] = { v: login.codeVerifier, n: login.nonce, r: login.returnTo, e: now + PENDING_LOGIN_TTL_MS }
  if (login.maxAge !== undefined) pending[state]!.m = login.maxAge
  if (login.silent) pending[state]!.s = 1
  instance.pending = pending
}

export type ConsumeResult =
  | { status: 'found'; login: PendingLogin }
  | { status: 'expired' }
  | { status: 'missing' }

/**
 * Removes and returns the pending login for `state`. Fails closed: a state that was never issued
 * to this session, or already used, is `missing`; one past its TTL is `expired`.
 */
export function consumePendingLogin(instance: InstanceState, state: string, now = Date.now()): ConsumeResult {
  const pending = instance.pending
  if (!pending || !Object.hasOwn(pending, state)) return { status: 'missing' }
  const login = pending[state]!
  delete pending[state]
  prune(pending, now, 0)
  if (Object.keys(pending).length === 0) delete instance.pending
  return login.e > now ? { status: 'found', login } : { status: 'expired' }
}

/** The pending logins still worth keeping, to carry into a regenerated session. */
export function remainingPendingLogins(instance: InstanceState): Record<string, PendingLogin> | undefined {
  const pending = instance.pending
  return pending && Object.keys(pending).length > 0 ? pending : undefined
}
