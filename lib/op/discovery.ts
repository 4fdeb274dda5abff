/**
 * The OP as openid-client sees it: discovery, then a `Configuration` that every login reuses.
 * Discovered once per `auth()` instance. A failed discovery is not cached, so the app recovers as
 * soon as the OP does, but it is not retried on every login either (see `retry-gate.ts`): an
 * outage costs the OP a few requests, not one per login.
 */

import * as client from 'openid-client'
import type { ClientAuthentication } from './client-auth.js'
import type { Config } from '../config/options.js'
import { ExpressParError, parError } from '../errors.js'
import type { OpFetch } from './http.js'
import { opError, printableURL } from './op-errors.js'
import { checkRequestObjects } from './request-object.js'
import { retryGate } from './retry-gate.js'
import { attachDPoPNonces, checkDPoPAgainstOP, type DPoPNonces } from './dpop.js'
import { checkProfileAgainstOP } from '../config/profile.js'
import { checkJarmAgainstOP } from './jarm.js'
import { opMetadata } from './metadata.js'

export type OpConfiguration = client.Configuration

/** What openid-client reports when the document's `issuer` is not `issuerBaseURL`. */
function mismatchedIssuer(err: unknown): unknown {
  if (!(err instanceof client.ClientError) || err.code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') return undefined
  const cause = err.cause as { attribute?: unknown; body?: { issuer?: unknown } } | undefined
  return cause?.attribute === 'issuer' ? (cause.body?.issuer ?? null) : undefined
}

/** The likely reason two issuer URLs differ, as a hint for the message. */
function issuerHint(configured: URL, stated: unknown): string {
  let theirs: URL
  try {
    theirs = new URL(String(stated))
  } catch {
    return 'Set issuerBaseURL to exactly the issuer the OP states.'
  }
  const loopback = (url: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)
  if (theirs.hostname !== configured.hostname && loopback(theirs) && loopback(configured)) {
    return `localhost, 127.0.0.1 and [::1] are different issuers: use ${theirs.hostname} in issuerBaseURL, as the OP does.`
  }
  if (theirs.protocol !== configured.protocol) return `One is ${configured.protocol}, the other ${theirs.protocol}: use the OP's.`
  if (theirs.origin === configured.origin && theirs.pathname.replace(/\/$/, '') === configured.pathname.replace(/\/$/, '')) {
    return "They differ by a trailing slash, which counts: copy the OP's issuer exactly."
  }
  return 'Set issuerBaseURL to exactly the issuer the OP states.'
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
        `The OP's metadata at ${config.issuer.href} points ${name} at ${printableURL(value)}, which is not https: codes, tokens and client credentials would cross the network in clear. Fix the OP's metadata (allowInsecureRequests is off).`,
      )
    }
  }
}

async function discover(config: Config, authentication: ClientAuthentication, opFetch: OpFetch, nonces: DPoPNonces | undefined): Promise<OpConfiguration> {
  // No client.enableNonRepudiationChecks: openid-client would verify ID token signatures against
  // its own JWKS cache, whose 60 s refetch cooldown refuses a freshly rotated key. Signatures are
  // verified by id-token.ts against jwks.ts instead, so every ID token openid-client hands back
  // (the code grant today, a refresh later) must go through checkIdToken().
  const execute = config.allowInsecureRequests ? [client.allowInsecureRequests] : []
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
      { execute, timeout: config.httpTimeout / 1000, [client.customFetch]: opFetch },
    )
  } catch (err) {
    const stated = mismatchedIssuer(err)
    if (stated !== undefined) {
      throw parError(
        'ERR_DISCOVERY_FAILED',
        `The OP's discovery document names its issuer ${printableURL(stated)}, but issuerBaseURL is ${config.issuer.href}: they must be the same (OpenID Connect Discovery §4.3). ${issuerHint(config.issuer, stated)}`,
        { cause: err },
      )
    }
    throw opError(err, 'discovery', config.httpTimeout)
  }
  const server = opMetadata(configuration)
  if (!server.pushed_authorization_request_endpoint) {
    throw parError(
      'ERR_PAR_UNSUPPORTED',
      `The OP at ${config.issuer.href} does not advertise a pushed_authorization_request_endpoint. express-par only logs in through PAR (RFC 9126): enable PAR at the OP.`,
    )
  }
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
  checkJarmAgainstOP(config.responseMode, config.profile, server)
  if (nonces) attachDPoPNonces(configuration, nonces)
  return configuration
}

/** What a login gets while discovery is held back after failures: the last failure, said so. */
function held(err: unknown, failures: number): unknown {
  if (!(err instanceof ExpressParError)) return err
  return parError(err.code, `${err.message} (Not asked again yet: discovery failed ${failures} times in a row, so the next attempt waits up to 2 s.)`, {
    cause: err,
    ...(err.error !== undefined && { error: err.error }),
    ...(err.errorDescription !== undefined && { errorDescription: err.errorDescription }),
  })
}

/** Returns a function that resolves the OP configuration, discovering it on first use. */
export function createOpClient(config: Config, opFetch: OpFetch, authentication: ClientAuthentication, nonces?: DPoPNonces): () => Promise<OpConfiguration> {
  let discovered: Promise<OpConfiguration> | undefined
  const gate = retryGate(async () => {
    const configuration = await discover(config, authentication, opFetch, nonces)
    discovered = Promise.resolve(configuration)
    return configuration
  }, held)
  return () => discovered ?? gate.run()
}
