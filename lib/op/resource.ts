/**
 * `req.oidc.fetch(url, init)`: a call to a resource server with the user's access token, through
 * openid-client's `fetchProtectedResource` (Bearer, or a DPoP proof with `ath` and one retry on a
 * nonce challenge, RFC 9449 §8-9). The token is refreshed first when it has expired or expires
 * within `clockTolerance`, so a request never sends a token the resource server will refuse as
 * expired.
 *
 * Resource calls get their own openid-client Configuration: the OP's metadata and the same
 * transport (the client certificate with mTLS, the DPoP nonce memory), but not the OP's 1 MB cap
 * and buffering, which are about the OP's answers, not an API's.
 */

import type { Request } from 'express'
import * as client from 'openid-client'
import { ExpressParError, parError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { liveLogin, nowSeconds } from '../session/lifetimes.js'
import { refreshLogin } from '../session/refresh.js'
import type { Login } from '../session/state.js'
import { attachDPoPNonces, dpopOptions } from './dpop.js'

const resourceConfigurations = new WeakMap<client.Configuration, client.Configuration>()

/** The Configuration resource calls go through, made once per discovered OP configuration. */
function resourceConfiguration(runtime: Runtime, op: client.Configuration): client.Configuration {
  let resource = resourceConfigurations.get(op)
  if (resource === undefined) {
    resource = new client.Configuration(op.serverMetadata(), runtime.config.clientID, op.clientMetadata(), runtime.clientAuth)
    resource[client.customFetch] = runtime.resourceFetch
    resource.timeout = runtime.config.httpTimeout / 1000
    if (runtime.config.allowInsecureRequests) client.allowInsecureRequests(resource)
    if (runtime.dpopNonces) attachDPoPNonces(resource, runtime.dpopNonces)
    resourceConfigurations.set(op, resource)
  }
  return resource
}

function expiresSoon(login: Login, tolerance: number): boolean {
  const expiresAt = login.auth.expiresAt
  return expiresAt !== undefined && expiresAt - tolerance <= nowSeconds()
}

/** A login whose access token is usable now, refreshed first when needed. */
async function usableLogin(runtime: Runtime, req: Request): Promise<Login> {
  const { name, lifetimes, clockTolerance } = runtime.config
  const login = liveLogin(req.session, name, lifetimes)
  if (login === undefined) throw parError('ERR_UNAUTHENTICATED', 'req.oidc.fetch() needs a logged-in user: log in first.')
  if (!login.auth.accessToken) throw parError('ERR_REFRESH_UNAVAILABLE', 'The login has no access token to call a resource server with. Check the scopes and the OP\'s token response.')
  if (!expiresSoon(login, clockTolerance)) return login
  if (!login.auth.refreshToken) {
    throw parError('ERR_REFRESH_UNAVAILABLE', 'The access token has expired and the login has no refresh token to renew it: log in again (or ask for `offline_access`).')
  }
  return refreshLogin(runtime, req)
}

/** What `req.oidc.fetch()` takes besides the URL: a method, headers and a body openid-client can send (and resend after a DPoP nonce challenge). */
export interface ResourceRequestInit {
  method?: string
  headers?: HeadersInit
  body?: client.FetchBody
}

/** Maps a failure to reach the resource server; its answers (any status) are returned as they are. */
function resourceError(err: unknown, url: URL, timeoutMs: number): ExpressParError {
  if (err instanceof ExpressParError) return err
  const name = (err as { name?: string; cause?: { name?: string } } | null)?.name
  const causeName = (err as { cause?: { name?: string } } | null)?.cause?.name
  if (name === 'TimeoutError' || causeName === 'TimeoutError') {
    return parError('ERR_RESOURCE_TIMEOUT', `The resource server at ${url.origin} did not answer within httpTimeout (${timeoutMs} ms).`, { cause: err })
  }
  return parError('ERR_RESOURCE_UNREACHABLE', `The resource server at ${url.origin} could not be reached (the reason is in err.cause).`, { cause: err })
}

/** Calls `url` with the login's access token; see the file comment. */
export async function fetchResource(runtime: Runtime, req: Request, url: string | URL, init?: ResourceRequestInit): Promise<Response> {
  const target = new URL(url)
  const login = await usableLogin(runtime, req)
  const op = await runtime.op()
  const method = init?.method ?? 'GET'
  try {
    const resource = resourceConfiguration(runtime, op)
    return await client.fetchProtectedResource(resource, login.auth.accessToken!, target, method, init?.body ?? null, new Headers(init?.headers), await dpopOptions(resource, login.dpop))
  } catch (err) {
    // A challenge (401/403 with WWW-Authenticate, other than the DPoP nonce openid-client already
    // answered) is the resource server's answer: the app gets it as any other response.
    if (err instanceof client.WWWAuthenticateChallengeError) return err.response
    throw resourceError(err, target, runtime.config.httpTimeout)
  }
}
