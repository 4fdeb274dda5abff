// The benchmark's OP: the example app's local oidc-provider (PAR and PKCE required), with a count
// of the discovery and JWKS requests it serves, attributed to a client library by User-Agent.
import './quiet-op.js'
import { startLocalOP } from '../example-app/local-op.js'

/** Which benchmarked app a request to the OP came from: express-openid-connect names itself. */
export const fetcherOf = (userAgent = '') => (userAgent.startsWith('express-openid-connect') ? 'express-openid-connect' : 'express-par')

/**
 * @param {Array<{ name: string, baseURL: string, clientID: string, clientSecret: string, dpop?: boolean }>} apps
 */
export async function startBenchOP(apps) {
  // The JWKS path is read from the OP's own metadata once it is up; counting starts after that read.
  const paths = { discovery: '/.well-known/openid-configuration', jwks: undefined }
  /** counts[app][kind] */
  const counts = {}
  const countFetches = async (ctx, next) => {
    const kind = ctx.path === paths.discovery ? 'discovery' : ctx.path === paths.jwks ? 'jwks' : undefined
    if (kind && paths.jwks) {
      const app = fetcherOf(ctx.get('user-agent'))
      counts[app] ??= { discovery: 0, jwks: 0 }
      counts[app][kind]++
    }
    await next()
  }
  const op = await startLocalOP({
    clients: apps.map((app) => ({
      client_id: app.clientID,
      client_secret: app.clientSecret,
      redirect_uris: [`${app.baseURL}/callback`],
      token_endpoint_auth_method: 'client_secret_basic',
      ...(app.dpop && { dpop_bound_access_tokens: true }),
    })),
    // DPoP on (for the DPoP configuration's client), without server nonces: what is measured is
    // the proofs and the per-login key, not extra round trips.
    features: { dPoP: { enabled: true } },
    middleware: [countFetches],
  })
  const metadata = await (await fetch(`${op.issuer}${paths.discovery}`)).json()
  paths.jwks = new URL(metadata.jwks_uri).pathname
  /** A copy of the counts so far for `app`. */
  const fetches = (app) => ({ discovery: 0, jwks: 0, ...counts[app] })
  return { ...op, paths, fetches }
}
