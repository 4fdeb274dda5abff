/**
 * How a route that answers by itself ended (the back-channel logout): the outcome, the error's
 * code, and `sub` where known, which `events.ts` publishes. Never a token, a session id or a cookie.
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
