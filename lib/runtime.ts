import type { ClientAuth } from 'openid-client'
import type { Config } from './config/options.js'
import { createClientAuthentication } from './op/client-auth.js'
import { createOpClient, type OpConfiguration } from './op/discovery.js'
import { createOpFetch, type OpFetch } from './op/http.js'
import { createOpJwks, type OpJwks } from './op/jwks.js'
import { DPoPNonces } from './op/dpop.js'
import { mtlsAgent, mtlsFetch } from './op/mtls.js'
import { CoordinationClient } from './session/coordination.js'
import { registerInstance } from './session/instances.js'
import { opMetadata } from './op/metadata.js'

/** What the route handlers share for one `auth()` instance. */
export interface Runtime {
  readonly config: Config
  /** Resolves the OP configuration, discovering it on first use (failures are not cached; see `op/retry-gate.ts`). */
  readonly op: () => Promise<OpConfiguration>
  /** Every request to the OP goes through it: `httpTimeout` for the whole answer, a 1 MB cap (see `op/http.ts`). */
  readonly opFetch: OpFetch
  /** What `req.oidc.fetch()` sends through: the same transport (client certificate, DPoP nonces), no cap. */
  readonly resourceFetch: OpFetch
  /** The latest DPoP nonce of each server, when DPoP is on (see `op/dpop.ts`). */
  readonly dpopNonces: DPoPNonces | undefined
  /** The OP's signing keys, with the one refetch policy for every JWT the OP signs (see `op/jwks.ts`). */
  readonly jwks: OpJwks
  /** Client authentication at the PAR and token endpoints (openid-client's, settled against the OP's metadata). */
  readonly clientAuth: ClientAuth
  /** The coordination store, keyed under this instance's name. */
  readonly coordination: CoordinationClient
  /** The OP's issuer identifier as its metadata states it once discovered, else the configured one. */
  readonly issuer: () => string
}

/** `issuerBaseURL` as an issuer identifier is written: `https://op.example` has no path, so no `/`. */
function configuredIssuer(issuer: URL): string {
  return issuer.pathname === '/' && !issuer.search ? issuer.origin : issuer.href
}

/** The runtime of one `auth()` instance. Nothing is fetched until the first login. */
export function createRuntime(config: Config): Runtime {
  // The OP's calls: undici's request() (through the client certificate's Agent for mTLS) with the
  // OP's deadline and size cap; resource calls: fetch() on the same Agent, streamed to the app.
  // Outermost on both, the DPoP nonce memory, which only reads a header.
  const agent = config.mtls ? mtlsAgent(config.mtls) : undefined
  const resourceTransport: OpFetch = agent ? mtlsFetch(agent) : (url, init) => fetch(url, init as RequestInit)
  const dpopNonces = config.dpop ? new DPoPNonces() : undefined
  const observed = (fetch: OpFetch) => (dpopNonces ? dpopNonces.observe(fetch) : fetch)
  const opFetch = observed(createOpFetch({ timeoutMs: config.httpTimeout, allowInsecureRequests: config.allowInsecureRequests, dispatcher: agent }))
  const authentication = createClientAuthentication(config.clientAuth)
  const discover = createOpClient(config, opFetch, authentication, dpopNonces)
  let discovered: OpConfiguration | undefined
  const op = async () => (discovered ??= await discover())
  const jwks = createOpJwks({ fetch: opFetch, jwksUri: async () => opMetadata(await op()).jwks_uri! })
  const runtime: Runtime = {
    config,
    op,
    opFetch,
    resourceFetch: observed(resourceTransport),
    dpopNonces,
    jwks,
    clientAuth: authentication.clientAuth,
    coordination: new CoordinationClient(config.coordination, config.name, config.httpTimeout),
    issuer: () => (discovered && opMetadata(discovered).issuer) ?? configuredIssuer(config.issuer),
  }
  registerInstance(runtime)
  return runtime
}
