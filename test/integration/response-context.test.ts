import net from 'node:net'
import type { AddressInfo } from 'node:net'
import express from 'express'
import express4 from 'express4'
import session from 'express-session'
import request from 'supertest'
import { auth } from 'express-par'

const options = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's' }

describe.each([
  ['Express 5', express],
  ['Express 4', express4 as unknown as typeof express],
])('res.oidc (%s)', (_name, expressModule) => {
  test('is there in the app, in routers and in mounted sub-apps; absent before auth()', async () => {
    const app = expressModule()
    app.get('/before', (_req, res) => res.json({ has: res.oidc !== undefined }))
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
    app.use(auth(options))
    app.get('/app', (_req, res) => res.json({ has: typeof res.oidc?.login === 'function' }))
    const sub = expressModule()
    sub.get('/page', (_req, res) => res.json({ has: typeof res.oidc?.login === 'function', same: res.oidc === res.oidc }))
    app.use('/sub', sub)
    const router = expressModule.Router()
    router.get('/page', (_req, res) => res.json({ has: typeof res.oidc?.logout === 'function' }))
    app.use('/router', router)

    expect((await request(app).get('/before')).body).toEqual({ has: false })
    expect((await request(app).get('/app')).body).toEqual({ has: true })
    expect((await request(app).get('/sub/page')).body).toEqual({ has: true, same: true })
    expect((await request(app).get('/router/page')).body).toEqual({ has: true })
  })

  test('an app that has no auth() never gets one, and an assignment still wins', async () => {
    const plain = expressModule()
    plain.get('/', (_req, res) => res.json({ has: res.oidc !== undefined }))
    expect((await request(plain).get('/')).body).toEqual({ has: false })

    const app = expressModule()
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
    app.use(auth(options))
    app.get('/', (_req, res) => {
      ;(res as unknown as { oidc: unknown }).oidc = 'replaced'
      res.json({ value: res.oidc })
    })
    expect((await request(app).get('/')).body).toEqual({ value: 'replaced' })
  })
})

test('res.oidc.login refuses an authorization parameter express-par sets itself, before any OP request', async () => {
  // Nothing listens at the issuer: had the login gone on, it would end in ERR_DISCOVERY_FAILED.
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  const app = express()
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
  app.use(auth({ issuerBaseURL: `http://127.0.0.1:${port}`, baseURL: 'http://localhost:3000', clientID: 'c', clientSecret: 's', allowInsecureRequests: true }))
  app.get('/sign-in', (req, res, next) => {
    void res.oidc.login({ authorizationParams: { [String(req.query.name)]: 'x' } }, next)
  })
  app.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ code: err.code })
  })
  for (const name of ['code_challenge_method', 'state', 'redirect_uri', 'request_uri']) {
    const answer = await request(app).get(`/sign-in?name=${name}`)
    expect(answer.body).toEqual({ code: 'ERR_LOGIN_OPTIONS_INVALID' })
  }
})
