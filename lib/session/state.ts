/**
 * Where express-par keeps its state in `req.session`: one record per `auth()` instance, under its
 * `name`, so several instances (a staff login and a customer login) never see each other's
 * pending logins, users or tokens:
 *
 * ```
 * req.session.expressPar = {
 *   default: { pending: { [state]: PendingLogin }, login: Login },
 *   staff: { ... },
 * }
 * ```
 *
 * Everything here is plain JSON, so any express-session store keeps it.
 */

import type { Session, SessionData } from 'express-session'
import { invalid } from '../config/checks.js'
import type { StoredAuth } from '../config/options.js'
import type { DPoPKeyRecord } from '../op/dpop.js'
import type { PendingLogin } from './pending-logins.js'

/** A completed login of one instance: what the callback validated, and its lifecycle. */
export interface Login {
  /** What `afterCallback` returned (by default: the tokens and the validated claims). */
  auth: StoredAuth
  /** A random id of this login: tells it apart from a later login in the same session. */
  id: string
  /** When the login completed, seconds since the epoch (absolute lifetime). */
  at: number
  /** When a request last read the login, seconds since the epoch (rolling lifetime). */
  seen: number
  /** Token generation: each refresh stores a higher one, so stale copies can be recognised. */
  gen: number
  /** The DPoP key pair the tokens are bound to (RFC 9449), when DPoP is on. */
  dpop?: DPoPKeyRecord
  /**
   * Who the OP says logged in (`sub`) and in which of its sessions (`sid`), kept apart from `auth`
   * (which `afterCallback` may trim) when `backchannelLogout` is on: what a logout token must match.
   */
  opSession?: { iss: string; sub: string; sid?: string }
}

/** The state of one `auth()` instance in one session. */
export interface InstanceState {
  pending?: Record<string, PendingLogin>
  login?: Login
  /** `attemptSilentLogin()` already tried a `prompt=none` login in this session (at most one per session). */
  silentTried?: 1
}

declare module 'express-session' {
  interface SessionData {
    /** express-par's state, by instance `name`. */
    expressPar?: Record<string, InstanceState>
  }
}

export type AnySession = Session & Partial<SessionData>

/** The instance's state in `session`, or `undefined` when it has none. */
export function instanceState(session: AnySession, name: string): InstanceState | undefined {
  const all = session.expressPar
  return all !== undefined && Object.hasOwn(all, name) ? all[name] : undefined
}

/** The instance's state in `session`, created empty when missing. */
export function ensureInstanceState(session: AnySession, name: string): InstanceState {
  const all = (session.expressPar ??= {})
  if (!Object.hasOwn(all, name)) all[name] = {}
  return all[name]!
}

/** Removes the instance's state when it holds nothing, and express-par's key when no instance has any. */
export function pruneInstanceState(session: AnySession, name: string): void {
  const all = session.expressPar
  if (all === undefined) return
  const state = all[name]
  if (state !== undefined && state.pending === undefined && state.login === undefined && state.silentTried === undefined) delete all[name]
  if (Object.keys(all).length === 0) delete session.expressPar
}

/** The instance's completed login in `session`, as stored (lifetimes not applied: see lifetimes.ts). */
export function storedLogin(session: AnySession, name: string): Login | undefined {
  return instanceState(session, name)?.login
}

/** Removes the instance's login from `session` (its pending logins stay). */
export function removeLogin(session: AnySession, name: string): void {
  const state = instanceState(session, name)
  if (state?.login === undefined) return
  delete state.login
  pruneInstanceState(session, name)
}

/** Whether another instance than `name` has a login in `session` (then a logout of `name` keeps the session). */
export function othersLoggedIn(session: AnySession, name: string): boolean {
  const all = session.expressPar ?? {}
  return Object.keys(all).some((other) => other !== name && all[other]!.login !== undefined)
}

/** Whether `session` holds anything but express-par's pending logins (and the cookie). */
export function holdsOnlyPendingLogins(session: AnySession): boolean {
  for (const key of Object.keys(session)) {
    if (key === 'cookie') continue
    if (key !== 'expressPar') return false
  }
  for (const state of Object.values(session.expressPar ?? {})) if (state.login !== undefined) return false
  return true
}

/** Checks the `name` option: a short identifier, the key of the instance's state in the session. */
export function checkInstanceName(value: unknown): string {
  if (value === undefined) return 'default'
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(value)) {
    invalid(`\`name\` must be 1 to 32 letters, digits, \`_\` or \`-\` (it keys this instance's logins in the session), got ${JSON.stringify(value)}.`)
  }
  return value
}
