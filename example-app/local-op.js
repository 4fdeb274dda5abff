// A local OpenID Provider (oidc-provider, certified) that *requires* PAR and PKCE, like the OPs
// express-par is for. `npm start` runs it so a newcomer can log in without an account anywhere;
// the tests run the same code in-process. Any login name works with any password; the demo
// user is "alice".
import http from 'node:http'
import { generateKeyPair, exportJWK } from 'jose'
import Provider from 'oidc-provider'

export const DEMO_USER = 'alice'

const PEOPLE = {
  alice: { name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com' },
}

function account(id) {
  const person = PEOPLE[id] ?? { name: id, email: `${id}@example.com` }
  return {
    accountId: id,
    claims: () => ({ sub: id, ...person, email_verified: true }),
  }
}

/**
 * oidc-provider's fetch, letting exactly `urls` through its SSRF protection (which refuses loopback
 * and private addresses): the local apps it must call, and nothing else.
 */
function letThrough(urls) {
  const allowed = new Set(urls)
  return (url, options) => {
    if (!allowed.has(url)) return fetch(url, options)
    const { dispatcher: _ssrfProtection, ...rest } = options
    return fetch(url, rest)
  }
}

/**
 * Starts the OP on `host:port` (port 0 picks a free one) and resolves once it listens.
 *
 * @param {object} options
 * @param {string} [options.host] default 127.0.0.1
 * @param {number} [options.port] default 0
 * @param {object[]} options.clients oidc-provider client metadata; PAR is required for all of them
 * @param {object} [options.features] merged over the defaults below
 * @param {object} [options.configuration] merged over the whole configuration
 * @param {Function[]} [options.middleware] Koa middleware installed before the OP's own routes
 * @param {string[]} [options.loopbackCalls] URLs of the apps on this machine the OP may call (a client's
 *   jwks_uri, its backchannel_logout_uri): oidc-provider refuses loopback addresses otherwise (SSRF protection)
 * @returns {Promise<{ issuer: string, provider: Provider, server: http.Server, close: () => Promise<void> }>}
 */
export async function startLocalOP({ host = '127.0.0.1', port = 0, clients, features = {}, configuration = {}, middleware = [], loopbackCalls = [] }) {
  const server = http.createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, resolve)
  })
  const issuer = `http://${host}:${server.address().port}`
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'local-op-1' }

  const provider = new Provider(issuer, {
    clients: clients.map((client) => ({ require_pushed_authorization_requests: true, ...client })),
    jwks: { keys: [signingKey] },
    cookies: { keys: ['local-op-cookie-key-for-development-only'] },
    findAccount: (_ctx, id) => account(id),
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    // Put the scope's claims in the ID token, so the app shows them without a userinfo call.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      Grant: 14 * 24 * 3600,
      IdToken: 3600,
      Interaction: 3600,
      PushedAuthorizationRequest: 60,
      RefreshToken: 14 * 24 * 3600,
      Session: 14 * 24 * 3600,
    },
    features: {
      devInteractions: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      rpInitiatedLogout: { enabled: true },
      backchannelLogout: { enabled: true },
      ...features,
    },
    ...(loopbackCalls.length > 0 && { fetch: letThrough(loopbackCalls) }),
    ...configuration,
  })
  for (const fn of middleware) provider.use(fn)
  server.on('request', provider.callback())

  return {
    issuer,
    provider,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}
