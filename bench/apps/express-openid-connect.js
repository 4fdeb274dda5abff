// express-openid-connect v3 with PAR and the code flow (PKCE), defaults otherwise: its session
// lives in an encrypted, rolling cookie. With `signingKey` it authenticates with private_key_jwt
// (the `express-openid-connect-pkjwt` configuration) and with `jar` also signs its pushed request
// objects (`express-openid-connect-jar`: eoc 3.4 has requestObjectSigningKey).
import express from 'express'
import eoc from 'express-openid-connect'
import { errorHandler, runChild } from './child.js'

const { auth, requiresAuth } = eoc

await runChild(async ({ baseURL, issuer, clientID, clientSecret, signingKey, signingAlg, jar = false }) => {
  const credentials = signingKey
    ? {
        clientAuthMethod: 'private_key_jwt',
        clientAssertionSigningKey: signingKey,
        clientAssertionSigningAlg: signingAlg,
        ...(jar && { requestObjectSigningKey: signingKey, requestObjectSigningAlg: signingAlg }),
      }
    : { clientAuthMethod: 'client_secret_basic', clientSecret }
  const app = express()
  app.use(
    auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID,
      ...credentials,
      secret: 'bench-cookie-secret-0123456789abcdef',
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
