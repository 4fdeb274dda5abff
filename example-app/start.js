// `npm start`: the example app, against a local OP that requires PAR (started here), or against a
// real tenant when ISSUER_BASE_URL, CLIENT_ID, CLIENT_SECRET and BASE_URL are set. Sessions live in
// memory, or in Redis when REDIS_URL is set (needed as soon as more than one instance runs).
// `npm start -- --jar` (or EXAMPLE_JAR=1): JAR + private_key_jwt against the local OP, see jar-mode.js.
// With a real tenant, SIGNING_KEY (a PEM from `npx express-par keygen`, with SIGNING_ALG) replaces
// CLIENT_SECRET: private_key_jwt and JAR with that key.
import { createApp } from './app.js'
import { jarSetup } from './jar-mode.js'
import { startLocalOP, DEMO_USER } from './local-op.js'

const port = Number(process.env.PORT ?? 3000)
const env = process.env
const jar = process.argv.includes('--jar') || env.EXAMPLE_JAR === '1'

async function main() {
  let authOptions
  if (env.ISSUER_BASE_URL) {
    const missing = ['CLIENT_ID', env.SIGNING_KEY ? 'SIGNING_KEY' : 'CLIENT_SECRET', 'BASE_URL'].filter((name) => !env[name])
    if (missing.length) throw new Error(`ISSUER_BASE_URL is set, so ${missing.join(', ')} must be set too.`)
    authOptions = {
      issuerBaseURL: env.ISSUER_BASE_URL,
      baseURL: env.BASE_URL,
      clientID: env.CLIENT_ID,
      clientSecret: env.SIGNING_KEY ? undefined : env.CLIENT_SECRET,
      clientAssertionSigningKey: env.SIGNING_KEY,
      clientAssertionSigningAlg: env.SIGNING_KEY ? env.SIGNING_ALG : undefined,
      requestObjectSigningKey: env.SIGNING_KEY,
      requestObjectSigningAlg: env.SIGNING_KEY ? env.SIGNING_ALG : undefined,
    }
  } else if (jar) {
    const baseURL = `http://localhost:${port}`
    const setup = await jarSetup({ baseURL, clientID: 'example-app' })
    const op = await startLocalOP({ host: 'localhost', port: Number(env.OP_PORT ?? 3001), clients: [setup.client], features: setup.opFeatures, configuration: setup.opConfiguration })
    console.log(`Local OP (PAR and signed request objects required, private_key_jwt client) at ${op.issuer}`)
    authOptions = { ...setup.auth, issuerBaseURL: op.issuer, allowInsecureRequests: true }
  } else {
    const baseURL = `http://localhost:${port}`
    const op = await startLocalOP({
      host: 'localhost',
      port: Number(env.OP_PORT ?? 3001),
      clients: [
        {
          client_id: 'example-app',
          client_secret: 'example-app-secret',
          redirect_uris: [`${baseURL}/callback`],
          post_logout_redirect_uris: [`${baseURL}/`],
        },
      ],
    })
    console.log(`Local OP (PAR required) at ${op.issuer}`)
    authOptions = {
      issuerBaseURL: op.issuer,
      baseURL,
      clientID: 'example-app',
      clientSecret: 'example-app-secret',
      allowInsecureRequests: true,
    }
  }

  let sessionStore
  if (env.REDIS_URL) {
    const { connectRedisStore } = await import('./redis-store.js')
    sessionStore = (await connectRedisStore(env.REDIS_URL)).store
    console.log(`Sessions in Redis at ${new URL(env.REDIS_URL).host}`)
  }
  const app = createApp({ auth: authOptions, sessionSecret: env.SESSION_SECRET, sessionStore })
  app.listen(port, () => {
    console.log(`\nexpress-par example app: open ${authOptions.baseURL}`)
    if (!env.ISSUER_BASE_URL) console.log(`Log in as "${DEMO_USER}" with any password.\n`)
  })
}

main().catch((err) => {
  console.error(err.message)
  process.exit(1)
})
