// `npm run op`: the example's local OP (PAR and PKCE required) on its own, with one client
// registered for your app, e.g. the README's Quick start. It prints the settings your app needs as
// .env lines: paste them into your app's .env and start it with `node --env-file=.env app.js`.
//
//   BASE_URL  your app's URL (default http://localhost:3000); the client's redirect URI is
//             BASE_URL/callback and its post-logout redirect URI BASE_URL/
//   OP_PORT   the OP's port (default 3001; 0 picks a free one)
//
// Local development only: the issuer is http:, any login name works with any password.
import { randomBytes } from 'node:crypto'
import { DEMO_USER, startLocalOP } from './local-op.js'
import { startupFailure } from './startup-errors.js'

const CLIENT_ID = 'my-app'
const CLIENT_SECRET = 'my-app-local-secret'

const baseURL = (process.env.BASE_URL ?? 'http://localhost:3000').replace(/\/+$/, '')
const opPort = Number(process.env.OP_PORT ?? 3001)

try {
  const app = new URL(baseURL)
  const redirectUri = `${baseURL}/callback`
  const op = await startLocalOP({
    host: 'localhost',
    port: opPort,
    clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [redirectUri], post_logout_redirect_uris: [`${baseURL}/`] }],
  })
  const port = app.port || (app.protocol === 'https:' ? '443' : '80')
  console.log(`Local OP (PAR and PKCE required) at ${op.issuer}, accepting the redirect URI ${redirectUri}.
Log in as "${DEMO_USER}" with any password. Ctrl-C stops it.

# Your app's .env (then: node --env-file=.env app.js)
ISSUER_BASE_URL=${op.issuer}
CLIENT_ID=${CLIENT_ID}
CLIENT_SECRET=${CLIENT_SECRET}
BASE_URL=${baseURL}
PORT=${port}
SESSION_SECRET=${randomBytes(32).toString('base64url')}
`)
} catch (err) {
  console.error(startupFailure(err, { OP_PORT: opPort }, 'npm run op'))
  process.exit(1)
}
