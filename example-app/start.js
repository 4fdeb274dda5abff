// `npm start`: the example app, against a local OP that requires PAR (started here), or against a
// real tenant when ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET and BASE_URL are set. Sessions live in
// memory, or in Redis when REDIS_URL is set (needed as soon as more than one instance runs).
// `npm start -- --jar` (or EXAMPLE_JAR=1): JAR + private_key_jwt against the local OP, see jar-mode.js.
// `npm start -- --two-apps`: a second app (another client of the local OP, on SECOND_PORT, default
// 3002) to try "log out everywhere"; `--silent-login`: the apps try a prompt=none login on page loads.
// With a real tenant, SIGNING_KEY (a PEM from `npx express-par keygen`, with SIGNING_ALG) replaces
// CLIENT_SECRET: private_key_jwt and JAR with that key.
import { createApp } from './app.js'
import { DEMO_USER } from './local-op.js'
import { startExample } from './stack.js'

const port = Number(process.env.PORT ?? 3000)
const env = process.env
const jar = process.argv.includes('--jar') || env.EXAMPLE_JAR === '1'
const twoApps = process.argv.includes('--two-apps')
const silentLogin = process.argv.includes('--silent-login')

async function redisSessionStore() {
  if (!env.REDIS_URL) return undefined
  const { connectRedisStore } = await import('./redis-store.js')
  const { store } = await connectRedisStore(env.REDIS_URL)
  console.log(`Sessions in Redis at ${new URL(env.REDIS_URL).host}`)
  return store
}

async function withRealTenant(sessionStore) {
  const app = createApp({
    auth: {
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
  await new Promise((resolve, reject) => app.listen(port, resolve).once('error', reject))
  console.log(`\nexpress-par example app: open ${env.BASE_URL}`)
}

async function withLocalOP(sessionStore) {
  const example = await startExample({
    jar,
    appPort: port,
    opPort: Number(env.OP_PORT ?? 3001),
    twoApps,
    secondAppPort: Number(env.SECOND_PORT ?? 3002),
    silentLogin,
    sessionSecret: env.SESSION_SECRET,
    sessionStore,
  })
  console.log(jar ? `Local OP (PAR and signed request objects required, private_key_jwt client) at ${example.issuer}` : `Local OP (PAR required) at ${example.issuer}`)
  console.log(`\nexpress-par example app: open ${example.baseURL}`)
  if (example.second) console.log(`Second example app (same OP, another client): open ${example.second.baseURL}`)
  console.log(`Log in as "${DEMO_USER}" with any password.\n`)
}

async function main() {
  if (env.ISSUER_BASE_URL) {
    const missing = ['CLIENT_ID', env.SIGNING_KEY ? 'SIGNING_KEY' : 'CLIENT_SECRET', 'BASE_URL'].filter((name) => !env[name])
    if (missing.length) throw new Error(`ISSUER_BASE_URL is set, so ${missing.join(', ')} must be set too.`)
  }
  const sessionStore = await redisSessionStore()
  await (env.ISSUER_BASE_URL ? withRealTenant(sessionStore) : withLocalOP(sessionStore))
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
