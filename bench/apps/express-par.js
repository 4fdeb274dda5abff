// express-par, built (dist/) and imported by its package name, as an app would. bench/config.js
// starts it in several configurations, each its own process, through setup flags: `dpop`,
// `signingKey` (JAR request objects + private_key_jwt), `events` (a subscriber on every
// diagnostics channel) and `redisURL` (connect-redis sessions + redisCoordination).
import express from 'express'
import session from 'express-session'
import { auth, requiresAuth } from 'express-par'
import { redisCoordination } from 'express-par/redis'
import { errorHandler, runChild } from './child.js'
import { subscribeAll } from './events.js'
import { sessionStore } from './store.js'

await runChild(async ({ baseURL, issuer, clientID, clientSecret, name, dpop = false, signingKey, signingAlg, events = false, redisURL }) => {
  const { store, client } = await sessionStore({ redisURL, name })
  if (events) subscribeAll()
  const credentials = signingKey
    ? { clientAuthMethod: 'private_key_jwt', clientAssertionSigningKey: signingKey, clientAssertionSigningAlg: signingAlg, requestObjectSigningKey: signingKey, requestObjectSigningAlg: signingAlg }
    : { clientAuthMethod: 'client_secret_basic', clientSecret }
  const app = express()
  app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false, store }))
  app.use(
    auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID,
      ...credentials,
      authorizationParams: { scope: 'openid profile email' },
      allowInsecureRequests: true,
      dpop,
      ...(client && { coordination: redisCoordination(client, { prefix: `bench:${name}:` }) }),
    }),
  )
  app.get('/', (req, res) => res.send('home'))
  app.get('/protected', requiresAuth(), (req, res) => res.json(req.oidc.user))
  // The untouched route: after auth(), never reads req.oidc.
  app.get('/health', (req, res) => res.json({ ok: true }))
  app.use(errorHandler)
  return { app, store }
})
