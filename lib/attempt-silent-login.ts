import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { ExpressParError, parError } from './errors.js'
import { currentScope } from './request-scope.js'
import { startLogin } from './routes/login.js'
import { markSilentLoginTried, silentLoginTried } from './session/silent-login.js'

/** Hints of a speculative load (prefetch, prerender, link preview): never worth a trip to the OP. */
const SPECULATIVE = /prefetch|prerender|preview/i

/**
 * A top-level HTML navigation that a person made: Fetch Metadata says `navigate` into a `document`
 * (not an iframe, not fetch/XHR), and nothing says it is a prefetch. A browser without Fetch
 * Metadata is never tried: silent login is a convenience, and without it nothing tells an iframe
 * or a script from a page load.
 */
function isTopLevelNavigation(req: Request): boolean {
  const headers = req.headers
  if (req.method !== 'GET' || headers['sec-fetch-mode'] !== 'navigate' || headers['sec-fetch-dest'] !== 'document') return false
  return !SPECULATIVE.test(`${headers['sec-purpose'] ?? ''} ${headers.purpose ?? ''} ${headers['x-purpose'] ?? ''} ${headers['x-moz'] ?? ''}`)
}

/** Failures of the OP itself (down, slow, misconfigured): the page is served anonymously instead. */
function isOpFailure(err: unknown): boolean {
  return err instanceof ExpressParError && err.status >= 502
}

/**
 * Logs a visitor in without a prompt when the OP still has a session for them: for an anonymous
 * top-level navigation, once per session, starts a `prompt=none` login through PAR. When the OP
 * needs the user (`login_required`, `interaction_required`, `consent_required`,
 * `account_selection_required`), the browser comes back to the page it asked for, anonymous, with
 * no error; when the OP has a session, the user is logged in and lands on that page.
 *
 * The "already tried" marker lives in the session (no cookie of its own), so there is no loop:
 * the return trip, and every later request of the session, goes through. If the OP cannot be
 * reached, the page is served anonymously. Register it after `auth()`, before the routes it covers.
 *
 * @example
 * app.use(auth({ ... }))
 * app.use(attemptSilentLogin())
 * @see OpenID Connect Core 1.0 §3.1.2.1 (`prompt=none`), §3.1.2.6 (its error answers)
 */
export function attemptSilentLogin(): RequestHandler {
  return function silentLogin(req: Request, res: Response, next: NextFunction): void {
    const scope = currentScope(req)
    if (scope === undefined) {
      next(parError('ERR_CONFIG_INVALID', 'attemptSilentLogin() needs app.use(auth({...})) registered before it, on a path that includes this route.'))
      return
    }
    const name = scope.runtime.config.name
    if (!isTopLevelNavigation(req) || silentLoginTried(req.session, name) || req.oidc.isAuthenticated()) {
      next()
      return
    }
    markSilentLoginTried(req.session, name)
    startLogin(scope.runtime, req, res, { returnTo: req.originalUrl, authorizationParams: { prompt: 'none' } }, { silent: true }).catch((err: unknown) => next(isOpFailure(err) ? undefined : err))
  }
}
