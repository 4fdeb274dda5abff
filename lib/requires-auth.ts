import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { parError } from './errors.js'

/** A top-level browser navigation, which can follow a redirect to the OP and back. */
function isNavigation(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const mode = req.headers['sec-fetch-mode']
  if (mode !== undefined) return mode === 'navigate'
  return (req.headers.accept ?? '').includes('text/html')
}

/**
 * Protects a route. A logged-in user passes; a browser navigation is sent to login with
 * `returnTo` = the original URL; any other request gets `ERR_UNAUTHENTICATED` (401) via `next(err)`.
 *
 * @example
 * app.get('/profile', requiresAuth(), (req, res) => res.json(req.oidc.user))
 */
export function requiresAuth(): RequestHandler {
  return function requiresAuthentication(req: Request, res: Response, next: NextFunction): void {
    if (!req.oidc) {
      next(parError('ERR_CONFIG_INVALID', 'requiresAuth() needs app.use(auth({...})) registered before it.'))
      return
    }
    if (req.oidc.isAuthenticated()) {
      next()
      return
    }
    if (isNavigation(req)) {
      void res.oidc.login({ returnTo: req.originalUrl }, next)
      return
    }
    next(parError('ERR_UNAUTHENTICATED', 'Authentication required: log in first (this request is not a browser navigation, so it was not redirected to login).'))
  }
}
