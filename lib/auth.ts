import type { NextFunction, Request, RequestHandler, Response } from 'express'
import { buildConfig, type AuthOptions } from './config/options.js'
import { installContextGetters } from './context.js'
import { parError } from './errors.js'
import { enterScope } from './request-scope.js'
import { backchannelLogoutRoute } from './routes/backchannel-logout.js'
import { callbackRoute } from './routes/callback.js'
import { jwksRoute } from './routes/jwks.js'
import { loginRoute } from './routes/login.js'
import { logoutRoute } from './routes/logout.js'
import { createRuntime } from './runtime.js'
import { guardSessionSave } from './session/save-guard.js'

type Route = (req: Request, res: Response, next: NextFunction) => void

/**
 * The express-par middleware: validates `options` at once (throwing `ERR_CONFIG_INVALID`), then
 * serves `GET routes.login`, `GET routes.callback`, `GET` and `POST routes.logout` (and
 * `GET routes.jwks`, `POST routes.backchannelLogout` when enabled), and makes `req.oidc` /
 * `res.oidc` available. Needs express-session registered before it.
 *
 * Any other request costs one exact path lookup (in the map of its method), one property saying
 * which instance it belongs to, and, when its session holds a login, a snapshot of the login's id
 * for the save guard: nothing is parsed, verified or fetched on the way through, and the contexts
 * are built only when the app reads them.
 *
 * @example
 * ```ts
 * app.use(session({ secret, resave: false, saveUninitialized: false }))
 * app.use(auth({ issuerBaseURL, baseURL, clientID, clientSecret }))
 * ```
 * @see RFC 9126 (PAR), RFC 7636 (PKCE), RFC 9207 (iss), OpenID Connect Core 1.0 §3.1
 */
export function auth(options: AuthOptions): RequestHandler {
  const config = buildConfig(options)
  const runtime = createRuntime(config)
  const getRoutes = new Map<string, Route>()
  const postRoutes = new Map<string, Route>()
  if (config.routes.login) getRoutes.set(config.routes.login, loginRoute(runtime))
  getRoutes.set(config.routes.callback, callbackRoute(runtime))
  if (config.routes.logout) {
    const logout = logoutRoute(runtime)
    getRoutes.set(config.routes.logout, logout)
    postRoutes.set(config.routes.logout, logout)
  }
  if (config.routes.jwks) getRoutes.set(config.routes.jwks, jwksRoute(config))
  // Called by the OP, not a browser: answers by itself, without the request's session.
  const backchannelLogout: Route | undefined = config.routes.backchannelLogout ? backchannelLogoutRoute(runtime) : undefined
  if (backchannelLogout) postRoutes.set(config.routes.backchannelLogout as string, backchannelLogout)

  return function expressPar(req: Request, res: Response, next: NextFunction): void {
    const route = req.method === 'GET' ? getRoutes.get(req.path) : req.method === 'POST' ? postRoutes.get(req.path) : undefined
    if (route !== undefined && route === backchannelLogout) {
      route(req, res, next)
      return
    }
    if (!req.session) {
      next(
        parError(
          'ERR_SESSION_MISSING',
          'express-par needs express-session: register app.use(session({...})) before app.use(auth({...})). If it is registered, its store reported a disconnect: express-session serves requests without a session until the store reconnects.',
        ),
      )
      return
    }
    installContextGetters(req, res)
    const conflict = enterScope(req, runtime, next)
    if (conflict) {
      next(conflict)
      return
    }
    if (req.session.expressPar !== undefined) guardSessionSave(req)
    if (route) route(req, res, next)
    else next()
  }
}
