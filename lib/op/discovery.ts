/**
 * The OP as openid-client sees it: discovery, then a `Configuration` that every login reuses (its
 * JWKS cache included). Discovered once per `auth()` instance; a failed discovery is not cached,
 * so the app recovers as soon as the OP does.
 */

import * as client from 'openid-client'
import { createClientAuthentication, type ClientAuthentication } from './client-auth.js'
import type { Config } from '../config/options.js'
import { parError } from '../errors.js'
import { opError } from './op-errors.js'
import { checkRequestObjects } from './request-object.js'
import { attachDPoPNonces, checkDPoPAgainstOP, DPoPNonces } from './dpop.js'
import { mtlsAgent, mtlsFetch } from './mtls.js'
import { checkProfileAgainstOP } from '../config/profile.js'

export type OpConfiguration = client.Configuration

/**
 * How openid-client reaches the OP (and, through `req.oidc.fetch()`, resource servers): Node's
 * fetch, or undici's with the client certificate for mTLS, observed for DPoP nonces when DPoP is
 * on. `undefined` keeps openid-client's default.
 */
function transport(config: Config, nonces: DPoPNonces | undefined): client.CustomFetch | undefined {
  const base = config.mtls ? mtlsFetch(mtlsAgent(config.mtls)) : undefined
  if (!nonces) return base
  return nonces.observe(base ?? ((url, options) => fetch(url, options as RequestInit)))
}

/** The endpoints express-par calls or sends the browser to. */
const ENDPOINTS = ['authorization_endpoint', 'pushed_authorization_request_endpoint', 'token_endpoint', 'jwks_uri'] as const

/**
 * Without `allowInsecureRequests`, every endpoint the OP's metadata names must be https:
 * openid-client would refuse an http: one only when it is first called; this names it at once.
 */
function checkHttpsEndpoints(config: Config, server: client.ServerMetadata): void {
  if (config.allowInsecureRequests) return
  const aliases = config.mtls ? (server.mtls_endpoint_aliases ?? {}) : {}
  const named: Array<[string, unknown]> = [
    ...ENDPOINTS.map((name): [string, unknown] => [name, server[name]]),
    ...Object.entries(aliases).map(([name, value]): [string, unknown] => [`mtls_endpoint_aliases.${name}`, value]),
  ]
  for (const [name, value] of named) {
    if (typeof value === 'string' && !value.startsWith('https:')) {
      throw parError(
        'ERR_DISCOVERY_FAILED',
        `The OP's metadata at ${config.issuer.href} points ${name} at ${value.slice(0, 200)}, which is not https: codes, tokens and client credentials would cross the network in clear. Fix the OP's metadata (allowInsecureRequests is off).`,
      )
    }
  }
}

async function discover(config: Config, authentication: ClientAuthentication, fetch: client.CustomFetch | undefined, nonces: DPoPNonces | undefined): Promise<OpConfiguration> {
  const execute = [client.enableNonRepudiationChecks]
  if (config.allowInsecureRequests) execute.push(client.allowInsecureRequests)
  let configuration: OpConfiguration
  try {
    configuration = await client.discovery(
      config.issuer,
      config.clientID,
      {
        client_secret: config.clientSecret,
        [client.clockTolerance]: config.clockTolerance,
        // RFC 8705 §5: with a client certificate, the OP's mtls_endpoint_aliases when it has them.
        ...(config.mtls && { use_mtls_endpoint_aliases: true }),
      },
      authentication.clientAuth,
      { execute, timeout: config.httpTimeout / 1000, ...(fetch && { [client.customFetch]: fetch }) },
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
  checkHttpsEndpoints(config, server)
  if (!server.jwks_uri) {
    throw parError(
      'ERR_DISCOVERY_FAILED',
      `The OP at ${config.issuer.href} advertises no jwks_uri (required by OpenID Connect Discovery §3), so no ID token could be verified. Fix the OP's metadata.`,
    )
  }
  await authentication.check(server)
  await checkRequestObjects(config.requestObjectKey, server)
  if (config.dpop) checkDPoPAgainstOP(config.dpop, server)
  if (config.profile) checkProfileAgainstOP(config.profile, server)
  if (nonces) attachDPoPNonces(configuration, nonces)
  return configuration
}

/** Returns a function that resolves the OP configuration, discovering it on first use. */
export function createOpClient(config: Config): () => Promise<OpConfiguration> {
  const authentication = createClientAuthentication(config.clientAuth)
  const nonces = config.dpop ? new DPoPNonces() : undefined
  const fetch = transport(config, nonces)
  let pending: Promise<OpConfiguration> | undefined
  return () => {
    pending ??= discover(config, authentication, fetch, nonces).catch((err: unknown) => {
      pending = undefined
      throw err
    })
    return pending
  }
}
