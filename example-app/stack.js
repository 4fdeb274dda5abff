// The example app together with its local OP, each on its own origin as in production. `npm start`
// (start.js) and the end-to-end tests (test/e2e/) both start it through startExample().
import http from 'node:http'
import { createApp } from './app.js'
import { fapiSetup } from './fapi-mode.js'
import { jarSetup } from './jar-mode.js'
import { withSignedResponses } from './jarm-mode.js'
import { startLocalOP } from './local-op.js'
import { withPaymentConsent } from './rar-mode.js'

export const CLIENT_ID = 'example-app'
export const CLIENT_SECRET = 'example-app-secret'
/** The second app (`npm start -- --two-apps`): another client of the same OP, for "log out everywhere". */
export const SECOND_CLIENT_ID = 'example-app-2'

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
    loopbackCalls: [],
    auth: { baseURL, clientID, clientSecret: CLIENT_SECRET },
  }
}

/**
 * Logout that holds, on top of either setup: `/logout` ends the OP session too (idpLogout, with
 * the OP's confirmation page), so the OP cannot log the user straight back in; and the OP calls
 * the app's back-channel logout route whenever its session ends, however it ended. The client is
 * registered with `backchannel_logout_session_required`, so its ID tokens and logout tokens carry
 * the OP session's `sid`.
 */
function withLogout(setup, baseURL) {
  const backchannelLogoutUri = `${baseURL}/backchannel-logout`
  return {
    ...setup,
    client: { ...setup.client, backchannel_logout_uri: backchannelLogoutUri, backchannel_logout_session_required: true },
    loopbackCalls: [...setup.loopbackCalls, backchannelLogoutUri],
    auth: { ...setup.auth, idpLogout: true, backchannelLogout: true },
  }
}

/** The OP's page that ends its session (oidc-provider's end_session_endpoint), returning to the app's home. */
const endOPSession = (issuer, baseURL, clientID) => `${issuer}/session/end?${new URLSearchParams({ client_id: clientID, post_logout_redirect_uri: `${baseURL}/` })}`

/**
 * Starts the local OP (PAR and PKCE required) and the example app registered at it as a client.
 * The app listens first so that its port, and so its redirect URI, is known before the OP
 * registers the client.
 *
 * @param {object} [options]
 * @param {boolean} [options.jar] JAR + private_key_jwt (see jar-mode.js) instead of a client secret
 * @param {boolean} [options.fapi] the FAPI 2.0 configuration: private_key_jwt + DPoP against a FAPI 2.0 OP (see fapi-mode.js)
 * @param {boolean} [options.jarm] on top of either: the OP signs its authorization responses (JARM, see jarm-mode.js)
 * @param {boolean} [options.rar] on top of either: a "Pay" button that asks consent for a payment (RAR, see rar-mode.js)
 * @param {string} [options.appHost] host the app listens on and its baseURL names; default localhost
 * @param {number} [options.appPort] default 0 (a free port)
 * @param {string} [options.opHost] host the OP listens on and its issuer names; default localhost
 * @param {number} [options.opPort] default 0 (a free port)
 * @param {boolean} [options.twoApps] also start a second app, another client of the same OP (its own cookie), to log out everywhere
 * @param {number} [options.secondAppPort] default 0 (a free port)
 * @param {boolean} [options.silentLogin] the apps try a prompt=none login once per session (attemptSilentLogin())
 * @param {Partial<import('express-par').AuthOptions>} [options.auth] merged over the app's auth() options
 * @param {object} [options.client] merged over the OP's registration of the app (oidc-provider client metadata)
 * @param {string} [options.sessionSecret]
 * @param {import('express-session').Store} [options.sessionStore] default: express-session's MemoryStore
 * @param {(err: Error) => void} [options.log] where the app's server errors go (default console.error)
 * @returns {Promise<{ baseURL: string, issuer: string, op: Awaited<ReturnType<typeof startLocalOP>>, server: http.Server, second?: { baseURL: string, server: http.Server }, close: () => Promise<void> }>}
 */
export async function startExample({
  jar = false,
  fapi = false,
  jarm = false,
  rar = false,
  appHost = 'localhost',
  appPort = 0,
  opHost = 'localhost',
  opPort = 0,
  twoApps = false,
  secondAppPort = 0,
  silentLogin = false,
  auth = {},
  client = {},
  sessionSecret,
  sessionStore,
  log,
} = {}) {
  const servers = [http.createServer()]
  if (twoApps) servers.push(http.createServer())
  const closeServers = () => Promise.all(servers.map((server) => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve())))))
  let op
  let setups
  try {
    const baseURLs = []
    for (const [i, server] of servers.entries()) baseURLs.push(`http://${appHost}:${await listen(server, i === 0 ? appPort : secondAppPort, appHost)}`)
    let setup = await (fapi ? fapiSetup : jar ? jarSetup : secretSetup)({ baseURL: baseURLs[0], clientID: CLIENT_ID })
    if (jarm) setup = withSignedResponses(setup)
    if (rar) setup = withPaymentConsent(setup)
    setups = [withLogout(setup, baseURLs[0])]
    if (twoApps) setups.push(withLogout(secretSetup({ baseURL: baseURLs[1], clientID: SECOND_CLIENT_ID }), baseURLs[1]))
    op = await startLocalOP({
      host: opHost,
      port: opPort,
      clients: setups.map((setup, i) => (i === 0 ? { ...setup.client, ...client } : setup.client)),
      features: setups[0].opFeatures,
      configuration: setups[0].opConfiguration,
      loopbackCalls: setups.flatMap((setup) => setup.loopbackCalls),
    })
  } catch (err) {
    await closeServers()
    throw err
  }
  const names = ['express-par example', 'Second example app']
  for (const [i, setup] of setups.entries()) {
    const other = setups[1 - i]
    const app = createApp({
      auth: { ...setup.auth, issuerBaseURL: op.issuer, allowInsecureRequests: true, ...(i === 0 && auth) },
      title: names[i],
      sessionSecret,
      log,
      // Two apps on one host share cookies by name (cookies ignore ports): each needs its own.
      ...(i === 0 ? { sessionStore } : { sessionCookie: 'example-2.sid' }),
      silentLogin,
      ...setup.app,
      endOPSession: endOPSession(op.issuer, setup.auth.baseURL, setup.auth.clientID),
      ...(other && { otherApp: { name: names[1 - i], url: other.auth.baseURL } }),
    })
    servers[i].on('request', app)
  }

  return {
    baseURL: setups[0].auth.baseURL,
    issuer: op.issuer,
    op,
    server: servers[0],
    ...(twoApps && { second: { baseURL: setups[1].auth.baseURL, server: servers[1] } }),
    async close() {
      await closeServers()
      await op.close()
    },
  }
}
