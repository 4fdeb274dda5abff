/**
 * The pushed authorization request (RFC 9126 §2), through oauth4webapi rather than openid-client's
 * `buildAuthorizationUrlWithPAR`, because oauth4webapi hands back the PAR response itself: its
 * `expires_in` must be a positive integer (§2.2), and openid-client's helper would accept `0`
 * without showing it. Requests go through the runtime's OP fetch and client authentication, the
 * same ones openid-client uses for discovery and the token request.
 */

import * as client from 'openid-client'
import * as oauth from 'oauth4webapi'
import { parError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { opError } from './op-errors.js'
import { dpopOptions, type DPoPKeyRecord } from './dpop.js'

/** oauth4webapi's view of the OP and the client, taken once per discovered configuration. */
const metadata = new WeakMap<client.Configuration, { as: oauth.AuthorizationServer; client: oauth.Client }>()

function metadataOf(op: client.Configuration): { as: oauth.AuthorizationServer; client: oauth.Client } {
  let found = metadata.get(op)
  if (!found) metadata.set(op, (found = { as: op.serverMetadata(), client: op.clientMetadata() }))
  return found
}

/** What was sent, for a failure's message: what a developer compares with the client registration. */
function sent(runtime: Runtime): string {
  const { config } = runtime
  return `client_id=${config.clientID}, redirect_uri=${config.redirectUri}, client authentication ${config.clientAuthMethod}${config.requestObjectKey ? ', a signed request object (JAR)' : ''}`
}

/**
 * Pushes `parameters` to the OP's PAR endpoint and returns the authorization URL the browser is
 * sent to: the authorization endpoint with `client_id` and `request_uri`, nothing else (§4). With
 * DPoP, the request carries a proof of the login's key (RFC 9449 §10: the OP binds the code to it)
 * and is sent once more when the OP answers with a `use_dpop_nonce` challenge (§8).
 * Throws `ERR_PAR_FAILED`, `ERR_OP_TIMEOUT` or `ERR_OP_UNREACHABLE`.
 *
 * @see RFC 9126 §2.1 (request), §2.2 (response), §4 (authorization request)
 */
export async function pushAuthorizationRequest(
  runtime: Runtime,
  op: client.Configuration,
  parameters: URLSearchParams | Record<string, string>,
  dpopKey?: DPoPKeyRecord,
): Promise<URL> {
  const { config } = runtime
  const { as, client: oauthClient } = metadataOf(op)
  const { DPoP } = await dpopOptions(op, dpopKey)
  const push = async () => {
    const response = await oauth.pushedAuthorizationRequest(as, oauthClient, runtime.clientAuth, parameters, {
      [oauth.customFetch]: runtime.opFetch,
      [oauth.allowInsecureRequests]: config.allowInsecureRequests,
      ...(DPoP && { DPoP }),
    })
    return oauth.processPushedAuthorizationResponse(as, oauthClient, response)
  }
  let pushed: Awaited<ReturnType<typeof oauth.processPushedAuthorizationResponse>>
  try {
    try {
      pushed = await push()
    } catch (err) {
      if (!DPoP || !oauth.isDPoPNonceError(err)) throw err
      pushed = await push() // the handle took the nonce from the challenge
    }
  } catch (err) {
    throw opError(err, 'par', config.httpTimeout, { sent: sent(runtime) })
  }
  if (!Number.isInteger(pushed.expires_in) || pushed.expires_in <= 0) {
    throw parError(
      'ERR_PAR_FAILED',
      `The PAR response's expires_in is ${Number.isFinite(pushed.expires_in) ? pushed.expires_in : 'not a number'}: RFC 9126 §2.2 requires a positive integer (the request_uri's lifetime in seconds), so the OP is broken or something answers in its place.`,
    )
  }
  return client.buildAuthorizationUrl(op, { request_uri: pushed.request_uri })
}
