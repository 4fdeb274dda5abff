// The benchmark's OP: the example app's local oidc-provider (PAR and PKCE required), with a count
// of the discovery and JWKS requests it serves, attributed to a client library by User-Agent.
import './quiet-op.js'
import { startLocalOP } from '../example-app/local-op.js'

/** Which benchmarked app a request to the OP came from: express-openid-connect names itself. */
export const fetcherOf = (userAgent = '') => (userAgent.startsWith('express-openid-connect') ? 'express-openid-connect' : 'express-par')

/**
 * @param {Array<{ name: string, baseURL: string, clientID: string, clientSecret: string }>} apps
 */
export async function startBenchOP(apps) {
  const op = await startLocalOP({
    clients: apps.map((app) => ({
      client_id: app.clientID,
      client_secret: app.clientSecret,
      redirect_uris: [`${app.baseURL}/callback`],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
  })
  // Read the paths from the OP's own metadata, before counting starts.
  const metadata = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()
  const paths = { discovery: '/.well-known/openid-configuration', jwks: new URL(metadata.jwks_uri).pathname }
  /** counts[app][kind] */
  const counts = {}
  op.provider.use(async (ctx, next) => {
    const kind = ctx.path === paths.discovery ? 'discovery' : ctx.path === paths.jwks ? 'jwks' : undefined
    if (kind) {
      const app = fetcherOf(ctx.get('user-agent'))
      counts[app] ??= { discovery: 0, jwks: 0 }
      counts[app][kind]++
    }
    await next()
  })
  // Koa composes its middleware when callback() is called: serve with one that includes the counter.
  op.server.removeAllListeners('request')
  op.server.on('request', op.provider.callback())
  /** A copy of the counts so far for `app`. */
  const fetches = (app) => ({ discovery: 0, jwks: 0, ...counts[app] })
  return { ...op, paths, fetches }
}
