/**
 * Pending logins, kept server-side in the session (in the instance's state, see state.ts) and keyed by their `state`, so several can be
 * pending at once (two tabs). Each is one-time: {@link consumePendingLogin} removes it before the
 * callback uses it. They expire after {@link PENDING_LOGIN_TTL_MS} and at most
 * {@link MAX_PENDING_LOGINS} are kept per session (the oldest go first).
 *
 * The record is plain JSON with short keys: it lives in every session store and under 512 bytes
 * (about 800 with an ES256 DPoP key pair, 2.5 KB with a PS256 one).
 */

import type { DPoPKeyRecord } from '../op/dpop.js'
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
  /** Set once another login finished in this browser session: this one may only return to `r` (see {@link returnOnly}). */
  c?: 1
  /**
   * The login's DPoP key pair (RFC 9449), when DPoP is on: the PAR request was signed with it, so
   * the code is bound to it and the token request (on whichever instance) must use the same key.
   */
  d?: DPoPKeyRecord
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
  login: { codeVerifier: string; nonce: string; returnTo: string; maxAge?: number; dpopKey?: DPoPKeyRecord; silent?: boolean },
  now = Date.now(),
): void {
  const pending = instance.pending ?? {}
  prune(pending, now, 1)
  pending[state] = { v: login.codeVerifier, n: login.nonce, r: login.returnTo, e: now + PENDING_LOGIN_TTL_MS }
  if (login.maxAge !== undefined) pending[state]!.m = login.maxAge
  if (login.dpopKey !== undefined) pending[state]!.d = login.dpopKey
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

/**
 * The pending logins carried into the session of a login that just finished, each marked to only
 * return the browser to its `returnTo` if its callback comes. A second tab's login still lands on
 * its page, but a pending login cannot log in *someone else* over the user who just logged in:
 * one planted by an attacker who set this browser's session cookie (a sibling subdomain, a cookie
 * without the `__Host-` prefix), whose callback URL the victim is later made to open.
 */
export function returnOnly(pending: Record<string, PendingLogin>): Record<string, PendingLogin> {
  for (const login of Object.values(pending)) login.c = 1
  return pending
}

/** The pending logins still worth keeping, to carry into a regenerated session. */
export function remainingPendingLogins(instance: InstanceState): Record<string, PendingLogin> | undefined {
  const pending = instance.pending
  return pending && Object.keys(pending).length > 0 ? pending : undefined
}
