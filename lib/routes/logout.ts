/**
 * Logging out: (the route only: check the request comes from the app's own origin, so that no
 * other site can log a user out) -> end this instance's login (destroying the session and
 * clearing its cookie when no other instance has a login in it) -> redirect to `returnTo`
 * (default `routes.postLogoutRedirect`) or, with `idpLogout`, to the OP's `end_session_endpoint`
 * (OpenID Connect RP-Initiated Logout) with `id_token_hint`.
 */

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import { appURL } from '../config/options.js'
import { parError } from '../errors.js'
import { claimDetails, observed } from '../events.js'
import { claimsOfLogin } from '../session/stored-claims.js'
import { rawQuery, single } from '../http/query.js'
import { safeReturnTo } from '../http/return-to.js'
import { fromOwnOrigin } from '../http/same-origin.js'
import { clearSessionCookie, sessionCookie } from '../http/session-cookie.js'
import type { Runtime } from '../runtime.js'
import { destroySession, saveSession } from '../session/store-calls.js'
import { othersLoggedIn, pruneInstanceState, storedLogin } from '../session/state.js'
import { opMetadata } from '../op/metadata.js'

export interface LogoutOptions {
  /** Same-origin path to land on after logout. Default `routes.postLogoutRedirect`. */
  returnTo?: string
}

/** Who is logging out, for the `express-par:logout` event. */
const loggingOut = (runtime: Runtime, req: Request) => () => claimDetails(claimsOfLogin(storedLogin(req.session, runtime.config.name)))

/** Logs out (`res.oidc.logout()`; see the file comment), publishing the outcome on `express-par:logout`. */
export function logout(runtime: Runtime, req: Request, res: Response, options: LogoutOptions = {}): Promise<void> {
  return observed('logout', runtime, req, () => endSessions(runtime, req, res, options), { before: loggingOut(runtime, req) })
}

async function endSessions(runtime: Runtime, req: Request, res: Response, options: LogoutOptions): Promise<void> {
  const { config } = runtime
  const returnTo = safeReturnTo(options.returnTo, config.baseURL, config.routes.postLogoutRedirect)
  const idToken = storedLogin(req.session, config.name)?.auth.idToken
  await endLocalSession(runtime, req, res)
  if (!config.idpLogout || !idToken) {
    res.redirect(returnTo)
    return
  }
  const op = await runtime.op()
  if (!opMetadata(op).end_session_endpoint) {
    throw parError(
      'ERR_IDP_LOGOUT_UNSUPPORTED',
      'The local session ended, but the OP advertises no end_session_endpoint, so the OP session is still open. Turn idpLogout off or enable RP-initiated logout at the OP.',
    )
  }
  const endSessionUrl = client.buildEndSessionUrl(op, {
    id_token_hint: idToken,
    post_logout_redirect_uri: appURL(new URL(config.baseURL.origin), returnTo),
    // OPTIONAL in RP-Initiated Logout 1.0 §2, and nothing is checked on the way back, but some OPs
    // (Glewlwyd) return to post_logout_redirect_uri only when the request has one.
    state: client.randomState(),
  })
  res.redirect(endSessionUrl.href)
}

/**
 * Ends this instance's login. When no other instance has a login in the session, the whole
 * session is destroyed (as a single-instance app expects) and the browser told to drop its cookie;
 * otherwise only this instance's state goes, and the other logins stay.
 *
 * A request of this session still in flight (a `/login` in another tab) cannot bring the login
 * back when it saves: the save guard re-reads the stored session first (save-guard.ts).
 */
async function endLocalSession(runtime: Runtime, req: Request, res: Response): Promise<void> {
  const name = runtime.config.name
  if (!othersLoggedIn(req.session, name)) {
    const cookie = sessionCookie(req)
    await destroySession(req)
    clearSessionCookie(res, cookie)
    return
  }
  const all = req.session.expressPar!
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

/** The `Sec-Fetch-Site` a request sent, when it is one of the values browsers send; anything else is not repeated. */
function printableSite(req: Request): string {
  const site = req.headers['sec-fetch-site']
  if (site === undefined) return 'absent'
  return ['cross-site', 'same-site', 'same-origin', 'none'].includes(site as string) ? (site as string) : 'unrecognised'
}

/** Logs out only a request of the app's own pages (see same-origin.ts). */
async function logoutFromOwnOrigin(runtime: Runtime, req: Request, res: Response): Promise<void> {
  const origin = runtime.config.baseURL.origin
  if (!fromOwnOrigin(req, origin)) {
    throw parError(
      'ERR_LOGOUT_CROSS_SITE',
      `Logout refused: the request did not come from this app's own pages at ${origin} (Sec-Fetch-Site: ${printableSite(req)}; without Fetch Metadata only a POST with this Origin logs out). The session stays. Log out with a form or link on the app's own pages.`,
    )
  }
  await endSessions(runtime, req, res, { returnTo: single(rawQuery(req), 'returnTo') })
}

/**
 * `GET` and `POST routes.logout[?returnTo=/path]`: only from the app's own origin (Fetch Metadata
 * `same-origin` or `none`; without Fetch Metadata, a POST whose `Origin` is the app's). Anything
 * else is `ERR_LOGOUT_CROSS_SITE` (403) and the session stays.
 */
export function logoutRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    observed('logout', runtime, req, () => logoutFromOwnOrigin(runtime, req, res), { before: loggingOut(runtime, req) }).catch(next)
  }
}
