// The example app together with its local OP, each on its own origin as in production. `npm start`
// (start.js) and the end-to-end tests (test/e2e/) both start it through startExample().
import http from 'node:http'
import { createApp } from './app.js'
import { fapiSetup } from './fapi-mode.js'
import { jarSetup } from './jar-mode.js'
import { startLocalOP } from './local-op.js'

export const CLIENT_ID = 'example-app'
export const CLIENT_SECRET = 'example-app-secret'

/** Listens on `host:port` (port 0 picks a free one); rejects if the port is taken. */
function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve(server.address().port)
    })
  })
}

/** The default client: PAR with client_secret_basic. Same shape as jarSetup()'s answer. */
function secretSetup({ baseURL, clientID }) {
  return {
    client: {
      client_id: clientID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${baseURL}/callback`],
      post_logout_redirect_uris: [`${baseURL}/`],
    },
    opFeatures: {},
    opConfiguration: {},
    auth: { baseURL, clientID, clientSecret: CLIENT_SECRET },
  }
}

/**
 * Starts the local OP (PAR and PKCE required) and the example app registered at it as a client.
 * The app listens first so that its port, and so its redirect URI, is known before the OP
 * registers the client.
 *
 * @param {object} [options]
 * @param {boolean} [options.jar] JAR + private_key_jwt (see jar-mode.js) instead of a client secret
 * @param {boolean} [options.fapi] the FAPI 2.0 configuration: private_key_jwt + DPoP against a FAPI 2.0 OP (see fapi-mode.js)
 * @param {string} [options.appHost] host the app listens on and its baseURL names; default localhost
 * @param {number} [options.appPort] default 0 (a free port)
 * @param {string} [options.opHost] host the OP listens on and its issuer names; default localhost
 * @param {number} [options.opPort] default 0 (a free port)
 * @param {Partial<import('express-par').AuthOptions>} [options.auth] merged over the app's auth() options
 * @param {object} [options.client] merged over the OP's registration of the app (oidc-provider client metadata)
 * @param {string} [options.sessionSecret]
 * @param {import('express-session').Store} [options.sessionStore] default: express-session's MemoryStore
 * @param {(err: Error) => void} [options.log] where the app's server errors go (default console.error)
 * @returns {Promise<{ baseURL: string, issuer: string, op: Awaited<ReturnType<typeof startLocalOP>>, server: http.Server, close: () => Promise<void> }>}
 */
export async function startExample({ jar = false, fapi = false, appHost = 'localhost', appPort = 0, opHost = 'localhost', opPort = 0, auth = {}, client = {}, sessionSecret, sessionStore, log } = {}) {
  const server = http.createServer()
  const baseURL = `http://${appHost}:${await listen(server, appPort, appHost)}`
  let op
  let setup
  try {
    setup = await (fapi ? fapiSetup : jar ? jarSetup : secretSetup)({ baseURL, clientID: CLIENT_ID })
    op = await startLocalOP({
      host: opHost,
      port: opPort,
      clients: [{ ...setup.client, ...client }],
      features: setup.opFeatures,
      configuration: setup.opConfiguration,
    })
  } catch (err) {
    server.close()
    throw err
  }
  const app = createApp({
    auth: { ...setup.auth, issuerBaseURL: op.issuer, allowInsecureRequests: true, ...auth },
    sessionSecret,
    sessionStore,
    log,
  })
  server.on('request', app)

  return {
    baseURL,
    issuer: op.issuer,
    op,
    server,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(() => resolve()))
      await op.close()
    },
  }
}
