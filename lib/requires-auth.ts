import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { parError } from './errors.js'
import { currentScope, findScope, focusScope, type Scope } from './request-scope.js'
import { startLogin } from './routes/login.js'
import { liveLogin } from './session/lifetimes.js'

/** A top-level browser navigation, which can follow a redirect to the OP and back. */
function isNavigation(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const mode = req.headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  return (req.headers.accept ?? '').includes('text/html')
}

export interface RequiresAuthOptions {
  /**
   * The `auth({ name })` instance whose login is required, when it is not the one in scope (two
   * instances mounted at the same path). It becomes the one `req.oidc` and `res.oidc` speak for.
   */
  name?: string
}

function scopeFor(req: Request, name: string | undefined): Scope | Error {
  if (name === undefined) {
    return currentScope(req) ?? parError('ERR_CONFIG_INVALID', 'requiresAuth() needs app.use(auth({...})) registered before it, on a path that includes this route.')
  }
  const scope = findScope(req, name)
  if (scope === undefined) {
    return parError(
      'ERR_CONFIG_INVALID',
      `requiresAuth({ name: ${JSON.stringify(name)} }): no auth({ name: ${JSON.stringify(name)} }) handled this request. Register it before this route, on a path that includes it.`,
    )
  }
  focusScope(req, scope)
  return scope
}

/**
 * Protects a route. A logged-in user passes; a browser navigation is sent to login with
 * `returnTo` = the original URL; any other request gets `ERR_UNAUTHENTICATED` (401) via `next(err)`.
 * Checks the instance in scope, or the one named by `options.name`.
 *
 * @example
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user))
 * app.get('/staff/admin', requiresAuth({ name: 'staff' }), handler)
 */
export function requiresAuth(options: RequiresAuthOptions = {}): RequestHandler {
  const name = options.name
  if (name !== undefined && typeof name !== 'string') throw parError('ERR_CONFIG_INVALID', 'requiresAuth({ name }): `name` must be the string given to auth({ name }).')
  return function requiresAuthentication(req: Request, res: Response, next: NextFunction): void {
    const scope = scopeFor(req, name)
    if (scope instanceof Error) {
      next(scope)
      return
    }
    // The scope's own instance decides, not whatever `req.oidc` holds (another middleware may set it).
    const { runtime } = scope
    if (liveLogin(req.session, runtime.config.name, runtime.config.lifetimes) !== undefined) {
      next()
      return
    }
    if (isNavigation(req)) {
      startLogin(runtime, req, res, { returnTo: req.originalUrl }).catch(next)
      return
    }
    next(parError('ERR_UNAUTHENTICATED', 'Authentication required: log in first (this request is not a browser navigation, so it was not redirected to login).'))
  }
}
