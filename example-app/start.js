// `npm start`: the example app, against a local OP that requires PAR (started here), or against a
// real tenant when ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET, BASE_URL and SESSION_SECRET are set.
// Sessions live in memory, or in Redis when REDIS_URL is set (needed as soon as more than one
// instance runs, all with the same SESSION_SECRET). The local demo makes a random session secret
// when SESSION_SECRET is unset: its sessions end when it stops.
// `npm start -- --jar` (or EXAMPLE_JAR=1): JAR + private_key_jwt against the local OP, see jar-mode.js.
// `npm start -- --fapi` (or EXAMPLE_FAPI=1): private_key_jwt + DPoP against the local OP in its
// FAPI 2.0 configuration, see fapi-mode.js.
// `npm start -- --jarm`: on top of any of these, the OP signs its authorization responses (JARM,
// see jarm-mode.js); `npm start -- --rar`: a "Pay" button on the home page, a login that asks the
// OP for consent to a payment (RFC 9396 authorization_details, see rar-mode.js). `npm start --
// --jar --jarm --rar` is FAPI 2.0 Message Signing's signed requests and responses with a payment.
// `npm start -- --two-apps`: a second app (another client of the local OP, on SECOND_PORT, default
// 3002) to try "log out everywhere"; `--silent-login`: the apps try a prompt=none login on page loads.
// With a real tenant, SIGNING_KEY (a PEM from `npx express-par keygen`, with SIGNING_ALG) replaces
// CLIENT_SECRET: private_key_jwt and JAR with that key.
import { createApp } from './app.js'
import { DEMO_USER } from './local-op.js'
import { startExample } from './stack.js'
import { redisCoordination } from 'express-par/redis'
import { startupFailure } from './startup-errors.js'
import { logEvents } from './event-log.js'

const port = Number(process.env.PORT ?? 3000)
const opPort = Number(process.env.OP_PORT ?? 3001)
const env = process.env
const jar = process.argv.includes('--jar') || env.EXAMPLE_JAR === '1'
const fapi = process.argv.includes('--fapi') || env.EXAMPLE_FAPI === '1'
const jarm = process.argv.includes('--jarm') || env.EXAMPLE_JARM === '1'
const rar = process.argv.includes('--rar') || env.EXAMPLE_RAR === '1'
const twoApps = process.argv.includes('--two-apps')
const silentLogin = process.argv.includes('--silent-login')

/** With REDIS_URL: sessions and coordination (one-time callbacks, single-flight refreshes) in Redis. */
async function redisSharing() {
  if (!env.REDIS_URL) return {}
  const { connectRedisStore } = await import('./redis-store.js')
  const { store, client } = await connectRedisStore(env.REDIS_URL)
  console.log(`Sessions and coordination in Redis at ${new URL(env.REDIS_URL).host}`)
  return { sessionStore: store, coordination: redisCoordination(client) }
}

async function withRealTenant({ sessionStore, coordination }) {
  const app = createApp({
    auth: {
      coordination,
      issuerBaseURL: env.ISSUER_BASE_URL,
      baseURL: env.BASE_URL,
      clientID: env.CLIENT_ID,
      clientSecret: env.SIGNING_KEY ? undefined : env.CLIENT_SECRET,
      clientAssertionSigningKey: env.SIGNING_KEY,
      clientAssertionSigningAlg: env.SIGNING_KEY ? env.SIGNING_ALG : undefined,
      requestObjectSigningKey: env.SIGNING_KEY,
      requestObjectSigningAlg: env.SIGNING_KEY ? env.SIGNING_ALG : undefined,
    },
    sessionSecret: env.SESSION_SECRET,
    sessionStore,
  })
  // Express 5 calls the listen callback with the error too (Express 4 only on success).
  await new Promise((resolve, reject) => app.listen(port, (err) => (err ? reject(err) : resolve())).once('error', reject))
  console.log(`\nexpress-par example app: open ${env.BASE_URL}`)
}

async function withLocalOP({ sessionStore, coordination }) {
  const example = await startExample({
    jar,
    fapi,
    jarm,
    rar,
    appPort: port,
    opPort,
    twoApps,
    secondAppPort: Number(env.SECOND_PORT ?? 3002),
    silentLogin,
    sessionSecret: env.SESSION_SECRET,
    sessionStore,
    auth: coordination ? { coordination } : {},
  })
  console.log(
    fapi
      ? `Local OP in the FAPI 2.0 configuration (PAR, PS256, DPoP-bound tokens with server nonces; private_key_jwt + DPoP client) at ${example.issuer}`
      : jar
        ? `Local OP (PAR and signed request objects required, private_key_jwt client) at ${example.issuer}`
        : `Local OP (PAR required) at ${example.issuer}`,
  )
  if (fapi) console.log("(Over http://localhost, so no certificate warnings: profile 'fapi2-security' needs https, see example-app/fapi-mode.js.)")
  if (jarm) console.log('The OP signs its authorization responses (JARM): the callback carries only response=<JWT>.')
  if (rar) console.log('Payment consent (RAR): "Pay with a consent at the OP" on the home page; the profile shows what the OP granted.')
  console.log(`\nexpress-par example app: open ${example.baseURL}`)
  if (example.second) console.log(`Second example app (same OP, another client): open ${example.second.baseURL}`)
  console.log(`Log in as "${DEMO_USER}" with any password.\n`)
}

async function main() {
  logEvents() // one JSON line per login, callback, logout, refresh and back-channel logout
  if (env.ISSUER_BASE_URL) {
    const missing = ['CLIENT_ID', env.SIGNING_KEY ? 'SIGNING_KEY' : 'CLIENT_SECRET', 'BASE_URL', 'SESSION_SECRET'].filter((name) => !env[name])
    if (missing.length) {
      throw new Error(
        `ISSUER_BASE_URL is set, so ${missing.join(', ')} must be set too.` +
          (missing.includes('SESSION_SECRET') ? ' SESSION_SECRET signs the session cookies: a long random value, e.g. `openssl rand -base64 32`, the same on every instance.' : ''),
      )
    }
  }
  if (env.REDIS_URL && !env.SESSION_SECRET) throw new Error('REDIS_URL is set, so SESSION_SECRET must be set too: every instance sharing the store signs its cookies with the same secret.')
  const sharing = await redisSharing()
  await (env.ISSUER_BASE_URL ? withRealTenant(sharing) : withLocalOP(sharing))
}

main().catch((err) => {
  console.error(startupFailure(err, env.ISSUER_BASE_URL ? { PORT: port } : { PORT: port, OP_PORT: opPort }, 'npm start'))
  process.exit(1)
})
