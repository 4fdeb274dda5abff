/**
 * How a route ended, computed at the one place where each route finishes: what the
 * `express-par:<route>` events (node:diagnostics_channel, a later issue) will publish. Never a
 * token, a session id or a cookie: the outcome, the error's code, and `sub` where known.
 */

import { ExpressParError, parError, type ErrorCode } from './errors.js'

export interface RouteOutcome {
  outcome: 'success' | 'failure'
  /** The error's code, on failure. */
  code?: ErrorCode
  /** The user the route was about, where known. */
  sub?: string
}

export function success(sub?: string): RouteOutcome {
  return sub === undefined ? { outcome: 'success' } : { outcome: 'success', sub }
}

/** A failure outcome and the error behind it; anything that is not an express-par error is wrapped as `fallback`. */
export function failure(err: unknown, fallback: { code: ErrorCode; message: string }, sub?: string): RouteOutcome & { error: ExpressParError } {
  const error = err instanceof ExpressParError ? err : parError(fallback.code, fallback.message, { cause: err })
  return { outcome: 'failure', code: error.code, ...(sub !== undefined && { sub }), error }
}

/**
 * Where each route's outcome ends up, once, as the route finishes. The events issue publishes it
 * on `express-par:<route>` here; until then it goes nowhere (and costs nothing).
 */
export function settled(_route: 'logout' | 'backchannel-logout', _outcome: RouteOutcome): void {}
