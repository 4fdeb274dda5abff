/**
 * Starting a login (RFC 9126 PAR + RFC 7636 PKCE S256 + state + nonce):
 * fresh secrets -> (JAR, RFC 9101: wrap the parameters in a signed request object) -> push the
 * authorization request to the OP with client authentication ->
 * record the pending login in the session -> save -> redirect with only client_id + request_uri.
 */

import type { Request, Response } from 'express'
import * as client from 'openid-client'
import { authorizationParamsProblem } from '../config/authorization-params.js'
import type { AuthorizationParams } from '../config/options.js'
import { parError } from '../errors.js'
import { opError } from '../op/op-errors.js'
import { pushAuthorizationRequest } from '../op/par.js'
import { single, rawQuery } from '../http/query.js'
import { requestObjectParameters } from '../op/request-object.js'
import { safeReturnTo } from '../http/return-to.js'
import { redirect } from '../http/redirect.js'
import type { Runtime } from '../runtime.js'
import { saveSession } from '../session/store-calls.js'
import { addPendingLogin, consumePendingLogin } from '../session/pending-logins.js'

export interface LoginOptions {
  /** Same-origin path to land on after login; anything else falls back to `/`. */
  returnTo?: string
  /** Extra authorization parameters for this login, merged over `auth({ authorizationParams })`. */
  authorizationParams?: AuthorizationParams
}

export async function startLogin(runtime: Runtime, req: Request, res: Response, options: LoginOptions = {}): Promise<void> {
  const { config } = runtime
  const extra = options.authorizationParams ?? {}
  const problem = authorizationParamsProblem(extra)
  if (problem) throw parError('ERR_LOGIN_OPTIONS_INVALID', `res.oidc.login({ authorizationParams }): ${problem}`)
  const returnTo = safeReturnTo(options.returnTo, config.baseURL)

  const op = await runtime.op()
  const codeVerifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const parameters: Record<string, string> = {
    ...(config.authorizationParams as Record<string, string>),
    ...(Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)) as Record<string, string>),
    response_type: 'code',
    redirect_uri: config.redirectUri,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  }

  let pushed: URLSearchParams | Record<string, string> = parameters
  try {
    if (config.requestObjectKey) pushed = await requestObjectParameters(op, config.requestObjectKey, parameters)
  } catch (err) {
    throw opError(err, 'par', config.httpTimeout)
  }
  const authorizationUrl = await pushAuthorizationRequest(runtime, op, pushed)

  const maxAge = parameters.max_age === undefined ? undefined : Number(parameters.max_age)
  addPendingLogin(req.session, state, { codeVerifier, nonce, returnTo, maxAge })
  try {
    await saveSession(req)
  } catch (err) {
    consumePendingLogin(req.session, state) // undone in memory too: a later save cannot store a login the browser never started
    throw err
  }
  redirect(res, authorizationUrl.href)
}

/** `GET routes.login[?returnTo=/path]` */
export function loginRoute(runtime: Runtime) {
  return (req: Request, res: Response, next: (err?: unknown) => void): void => {
    startLogin(runtime, req, res, { returnTo: single(rawQuery(req), 'returnTo') }).catch(next)
  }
}
