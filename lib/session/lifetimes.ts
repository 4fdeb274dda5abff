/**
 * How long a login lasts: `absoluteDuration` seconds after it completed, and `rollingDuration`
 * seconds after the last request that read it, whichever ends first. Checked when the login is
 * read (`req.oidc`, `requiresAuth()`), by comparing numbers already in the loaded session: no
 * store read, no clock but `Date.now()`.
 */

import { checkKeys, invalid } from '../config/checks.js'
import { removeLogin, storedLogin, type AnySession, type Login } from './state.js'

export interface Lifetimes {
  /** Seconds after the login; `false`: no limit. */
  readonly absoluteDuration: number | false
  /** Seconds after the last request that read the login; `false`: no limit. */
  readonly rollingDuration: number | false
}

/** The `session` option of `auth()`. */
export interface SessionOptions {
  /** Seconds a login lasts at most, from the moment it completed. Default 7 days; `false` turns it off. */
  absoluteDuration?: number | false
  /** Seconds a login lasts without a request reading it. Default 1 day; `false` turns it off. */
  rollingDuration?: number | false
}

export const DEFAULT_LIFETIMES: Lifetimes = Object.freeze({ absoluteDuration: 7 * 86400, rollingDuration: 86400 })

const KNOWN = ['absoluteDuration', 'rollingDuration'] as const

function duration(value: unknown, name: string, fallback: number | false): number | false {
  if (value === undefined) return fallback
  if (value === false) return false
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    invalid(`\`session.${name}\` must be a positive number of seconds or false, got ${JSON.stringify(value)}.`)
  }
  return value
}

/** Checks the `session` option of `auth()`. */
export function checkLifetimes(value: unknown): Lifetimes {
  if (value === undefined) return DEFAULT_LIFETIMES
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid('`session` must be an object such as `{ absoluteDuration: 7 * 86400, rollingDuration: 86400 }` (seconds). Sessions themselves are express-session\'s: configure its cookie and store there.')
  }
  checkKeys(value, KNOWN, 'session.')
  const given = value as SessionOptions
  return Object.freeze({
    absoluteDuration: duration(given.absoluteDuration, 'absoluteDuration', DEFAULT_LIFETIMES.absoluteDuration),
    rollingDuration: duration(given.rollingDuration, 'rollingDuration', DEFAULT_LIFETIMES.rollingDuration),
  })
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)

/**
 * How stale `seen` may get before a request refreshes it: each refresh changes the session, so
 * the store writes it; a minute (or a tenth of a short rolling duration) keeps that rare.
 */
function touchInterval(rolling: number): number {
  return Math.min(60, rolling / 10)
}

/** Whether `login` has outlived one of its lifetimes at `now` (seconds). */
export function hasExpired(login: Login, lifetimes: Lifetimes, now: number): boolean {
  const { absoluteDuration, rollingDuration } = lifetimes
  return (absoluteDuration !== false && now - login.at >= absoluteDuration) || (rollingDuration !== false && now - login.seen >= rollingDuration)
}

/**
 * The instance's login in `session` if it is still alive; an expired one is removed from the
 * session (the user is logged out on this request). Reading a live login counts as activity. No
 * session (destroyed earlier in the request, `req.session.destroy()`): nobody is logged in.
 */
export function liveLogin(session: AnySession | undefined, name: string, lifetimes: Lifetimes, now = nowSeconds()): Login | undefined {
  if (session === undefined) return undefined
  const login = storedLogin(session, name)
  if (login === undefined) return undefined
  if (hasExpired(login, lifetimes, now)) {
    removeLogin(session, name)
    return undefined
  }
  if (lifetimes.rollingDuration !== false && now - login.seen >= touchInterval(lifetimes.rollingDuration)) login.seen = now
  return login
}
