/**
 * Logging out: destroy the local session, then either redirect to `returnTo` (default
 * `routes.postLogoutRedirect`) or, with `idpLogout`, to the OP's `end_session_endpoint`
 * (OpenID Connect RP-Initiated Logout) with `id_token_hint`.
 */

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import { appURL } from '../config/options.js'
import { parError } from '../errors.js'
import { claimDetails, observed } from '../events.js'
import { rawQuery, single } from '../http/query.js'
import { safeReturnTo } from '../http/return-to.js'
import type { Runtime } from '../runtime.js'
import { destroySession, saveSession } from '../session/store-calls.js'
import { pruneInstanceState, storedLogin } from '../session/state.js'

export interface LogoutOptions {
  /** Same-origin path to land on after logout. Default `routes.postLogoutRedirect`. */
  returnTo?: string
}

/** Logs out (see the file comment), publishing the outcome on `express-par:logout`. */
export function logout(runtime: Runtime, req: Request, res: Response, options: LogoutOptions = {}): Promise<void> {
  return observed('logout', runtime, req, () => endSessions(runtime, req, res, options), {
    before: () => claimDetails(storedLogin(req.session, runtime.config.name)?.auth.claims),
  })
}

async function endSessions(runtime: Runtime, req: Request, res: Response, options: LogoutOptions): Promise<void> {
  const { config } = runtime
  const returnTo = safeReturnTo(options.returnTo, config.baseURL, config.routes.postLogoutRedirect)
  const idToken = storedLogin(req.session, config.name)?.auth.idToken
  await endLocalSession(runtime, req)
  if (!config.idpLogout || !idToken) {
    res.redirect(returnTo)
    return
  }
  const op = await runtime.op()
  if (!op.serverMetadata().end_session_endpoint) {
    throw parError(
      'ERR_IDP_LOGOUT_UNSUPPORTED',
      'The local session ended, but the OP advertises no end_session_endpoint, so the OP session is still open. Turn idpLogout off or enable RP-initiated logout at the OP.',
    )
  }
  const endSessionUrl = client.buildEndSessionUrl(op, {
    id_token_hint: idToken,
    post_logout_redirect_uri: appURL(new URL(config.baseURL.origin), returnTo),
  })
  res.redirect(endSessionUrl.href)
}

/**
 * Ends this instance's login. When no other instance has a login in the session, the whole
 * session is destroyed (as a single-instance app expects); otherwise only this instance's state
 * goes, and the other logins stay.
 */
async function endLocalSession(runtime: Runtime, req: Request): Promise<void> {
  const name = runtime.config.name
  const all = req.session.expressPar ?? {}
  const othersLoggedIn = Object.keys(all).some((other) => other !== name && all[other]!.login !== undefined)
  if (!othersLoggedIn) {
    await destroySession(req)
    return
  }
  const removed = all[name]
  delete all[name]
  pruneInstanceState(req.session, name)
  try {
    await saveSession(req)
  } catch (err) {
    if (removed !== undefined) all[name] = removed
    throw err
  }
}

/** `GET routes.logout[?returnTo=/path]` */
export function logoutRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    logout(runtime, req, res, { returnTo: single(rawQuery(req), 'returnTo') }).catch(next)
  }
}
