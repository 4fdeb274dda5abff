/** express-par: Express login through Pushed Authorization Requests (RFC 9126). */
export { auth } from './auth.js'
export { requiresAuth } from './requires-auth.js'
export { ExpressParError, ERROR_STATUS } from './errors.js'
export type { ErrorCode } from './errors.js'
export type { AuthOptions, AuthorizationParams, RoutesOptions, StoredAuth, AfterCallback } from './config.js'
export type { RequestContext, ResponseContext, AccessToken } from './context.js'
export type { LoginOptions } from './routes/login.js'
export type { LogoutOptions } from './routes/logout.js'
