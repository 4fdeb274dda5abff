/**
 * How often a failing OP is asked again: concurrent callers share the attempt under way, a first
 * failure may be retried at once, and each further failure in a row holds the next attempt back a
 * little longer, up to about 2 s. While held, callers get the last failure without a request. A
 * success ends the hold. So an app recovers within 2 s of its OP, and an outage costs the OP a
 * handful of requests rather than one per login.
 */

/** Hold after the 1st, 2nd, ... failure in a row, in milliseconds (the last repeats). */
export const RETRY_HOLDS_MS = [0, 250, 500, 1000, 2000] as const

export interface RetryGate<T> {
  /** The attempt under way, a new one, or (while held) the last failure. */
  run(): Promise<T>
  /** Whether an attempt is under way. */
  readonly busy: boolean
}

/**
 * @param attempt what to run
 * @param whileHeld turns the last failure into what a held caller gets (default: the failure itself)
 */
export function retryGate<T>(attempt: () => Promise<T>, whileHeld: (lastFailure: unknown, failures: number) => unknown = (err) => err): RetryGate<T> {
  let pending: Promise<T> | undefined
  let failures = 0
  let failedAt = 0
  let lastFailure: unknown
  return {
    get busy() {
      return pending !== undefined
    },
    run() {
      if (pending) return pending
      if (failures > 0) {
        const since = Date.now() - failedAt
        // A clock set back (since < 0) ends the hold rather than stretching it.
        if (since >= 0 && since < RETRY_HOLDS_MS[Math.min(failures, RETRY_HOLDS_MS.length) - 1]!) return Promise.reject(whileHeld(lastFailure, failures))
      }
      pending = attempt().then(
        (value) => {
          failures = 0
          pending = undefined
          return value
        },
        (err: unknown) => {
          failures++
          failedAt = Date.now()
          lastFailure = err
          pending = undefined
          throw err
        },
      )
      return pending
    },
  }
}
