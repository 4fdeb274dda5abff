/**
 * The OP as openid-client sees it: discovery, then a `Configuration` that every login reuses (its
 * JWKS cache included). Discovered once per `auth()` instance; a failed discovery is not cached,
 * so the app recovers as soon as the OP does.
 */

import * as client from 'openid-client'
import type { ClientAuthentication } from './client-auth.js'
import type { Config } from '../config/options.js'
import { parError } from '../errors.js'
import type { OpFetch } from './http.js'
import { opError } from './op-errors.js'
import { checkRequestObjects } from './request-object.js'

export type OpConfiguration = client.Configuration

async function discover(config: Config, authentication: ClientAuthentication, opFetch: OpFetch): Promise<OpConfiguration> {
  const execute = [client.enableNonRepudiationChecks]
  if (config.allowInsecureRequests) execute.push(client.allowInsecureRequests)
  let configuration: OpConfiguration
  try {
    configuration = await client.discovery(
      config.issuer,
      config.clientID,
      { client_secret: config.clientSecret, [client.clockTolerance]: config.clockTolerance },
      authentication.clientAuth,
      { execute, timeout: config.httpTimeout / 1000, [client.customFetch]: opFetch },
    )
  } catch (err) {
    throw opError(err, 'discovery', config.httpTimeout)
  }
  if (!configuration.serverMetadata().pushed_authorization_request_endpoint) {
    throw parError(
      'ERR_PAR_UNSUPPORTED',
      `The OP at ${config.issuer.href} does not advertise a pushed_authorization_request_endpoint. express-par only logs in through PAR (RFC 9126): enable PAR at the OP.`,
    )
  }
  const server = configuration.serverMetadata()
  if (!server.jwks_uri) {
    throw parError(
      'ERR_DISCOVERY_FAILED',
      `The OP at ${config.issuer.href} advertises no jwks_uri (required by OpenID Connect Discovery §3), so no ID token could be verified. Fix the OP's metadata.`,
    )
  }
  await authentication.check(server)
  await checkRequestObjects(config.requestObjectKey, server)
  return configuration
}

/** Returns a function that resolves the OP configuration, discovering it on first use. */
export function createOpClient(config: Config, opFetch: OpFetch, authentication: ClientAuthentication): () => Promise<OpConfiguration> {
  let pending: Promise<OpConfiguration> | undefined
  return () => {
    pending ??= discover(config, authentication, opFetch).catch((err: unknown) => {
      pending = undefined
      throw err
    })
    return pending
  }
}
