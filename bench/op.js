// The benchmark's OP: the example app's local oidc-provider (PAR and PKCE required), with a count
// of the discovery and JWKS requests it serves. Logins run one at a time, so the count around a
// login is that app's.
import './quiet-op.js'
import { startLocalOP } from '../example-app/local-op.js'

export const SIGNING_ALG = 'PS256'

/** oidc-provider client metadata for one benchmarked app. */
function clientOf(app) {
  const base = { client_id: app.clientID, redirect_uris: [`${app.baseURL}/callback`] }
  if (!app.jwk) return { ...base, client_secret: app.clientSecret, token_endpoint_auth_method: 'client_secret_basic', ...(app.dpop && { dpop_bound_access_tokens: true }) }
  return {
    ...base,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: SIGNING_ALG,
    jwks: { keys: [app.jwk] },
    ...(app.jar && { require_signed_request_object: true, request_object_signing_alg: SIGNING_ALG }),
  }
}

/**
 * @param {Array<{ name: string, baseURL: string, clientID: string, clientSecret: string, dpop?: boolean, jwk?: object, jar?: boolean }>} apps
 */
export async function startBenchOP(apps) {
  // The JWKS path is read from the OP's own metadata once it is up; counting starts after that read.
  const paths = { discovery: '/.well-known/openid-configuration', jwks: undefined }
  const counts = { discovery: 0, jwks: 0 }
  const countFetches = async (ctx, next) => {
    const kind = ctx.path === paths.discovery ? 'discovery' : ctx.path === paths.jwks ? 'jwks' : undefined
    if (kind && paths.jwks) counts[kind]++
    await next()
  }
  const op = await startLocalOP({
    clients: apps.map(clientOf),
    // DPoP on (for the DPoP configuration's client), without server nonces: what is measured is
    // the proofs and the per-login key, not extra round trips. Request objects for the JAR clients.
    features: { dPoP: { enabled: true }, requestObjects: { enabled: true, requireSignedRequestObject: false } },
    middleware: [countFetches],
  })
  const metadata = await (await fetch(`${op.issuer}${paths.discovery}`)).json()
  paths.jwks = new URL(metadata.jwks_uri).pathname
  /** A copy of the counts so far, all apps together. */
  const fetches = () => ({ ...counts })
  return { ...op, paths, fetches }
}
