// express-par, built (dist/) and imported by its package name, as an app would. Its DPoP
// configuration (bench/run.js starts it as `express-par-dpop`) differs only in `dpop: true`.
import express from 'express'
import session, { MemoryStore } from 'express-session'
import { auth, requiresAuth } from 'express-par'
import { errorHandler, runChild } from './child.js'

await runChild(async ({ baseURL, issuer, clientID, clientSecret, dpop = false }) => {
  const store = new MemoryStore()
  const app = express()
  app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false, store }))
  app.use(
    auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID,
      clientSecret,
      clientAuthMethod: 'client_secret_basic',
      authorizationParams: { scope: 'openid profile email' },
      allowInsecureRequests: true,
      dpop,
    }),
  )
  app.get('/', (req, res) => res.send('home'))
  app.get('/protected', requiresAuth(), (req, res) => res.json(req.oidc.user))
  app.use(errorHandler)
  return { app, store }
})
