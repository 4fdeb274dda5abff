// express-openid-connect v3 with PAR and the code flow (PKCE), defaults otherwise: its session
// lives in an encrypted, rolling cookie.
import express from 'express'
import eoc from 'express-openid-connect'
import { errorHandler, runChild } from './child.js'

const { auth, requiresAuth } = eoc

await runChild(async ({ baseURL, issuer, clientID, clientSecret }) => {
  const app = express()
  app.use(
    auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID,
      clientSecret,
      secret: 'bench-cookie-secret-0123456789abcdef',
      clientAuthMethod: 'client_secret_basic',
      pushedAuthorizationRequests: true,
      authRequired: false,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    }),
  )
  app.get('/', (req, res) => res.send('home'))
  app.get('/protected', requiresAuth(), (req, res) => res.json(req.oidc.user))
  app.use(errorHandler)
  return { app }
})
