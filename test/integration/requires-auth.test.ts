import net from 'node:net'
import type { AddressInfo } from 'node:net'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { auth, requiresAuth } from 'express-par'
import { startStack } from '../support/stack.js'

/** A loopback port with nothing listening: discovery there fails at once. */
async function closedPort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

test("requiresAuth reports a failed login through its own next, reaching the router's error handler", async () => {
  const app = express()
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
  app.use(auth({ issuerBaseURL: `http://127.0.0.1:${await closedPort()}`, baseURL: 'http://localhost:3000', clientID: 'c', clientSecret: 's', allowInsecureRequests: true }))
  const api = express.Router()
  api.get('/page', requiresAuth(), (_req, res) => res.send('secret'))
  api.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(599).json({ handledBy: 'router', code: err.code })
  })
  app.use('/area', api)
  app.use((_err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).json({ handledBy: 'app' })
  })

  const navigation = await request(app).get('/area/page').set('sec-fetch-mode', 'navigate').set('accept', 'text/html')
  expect(navigation.body).toEqual({ handledBy: 'router', code: 'ERR_DISCOVERY_FAILED' })
  const api401 = await request(app).get('/area/page').set('accept', 'application/json')
  expect(api401.body).toEqual({ handledBy: 'router', code: 'ERR_UNAUTHENTICATED' })
})

describe('requiresAuth: which unauthenticated requests are sent to login', () => {
  let app: express.Express
  beforeAll(async () => {
    // Discovery at a closed port fails at once: a request sent to login ends in ERR_DISCOVERY_FAILED,
    // one refused with a 401 in ERR_UNAUTHENTICATED, so the code says which way requiresAuth decided.
    app = express()
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
    app.use(auth({ issuerBaseURL: `http://127.0.0.1:${await closedPort()}`, baseURL: 'http://localhost:3000', clientID: 'c', clientSecret: 's', allowInsecureRequests: true }))
    app.all('/page', requiresAuth(), (_req, res) => res.send('secret'))
    app.use((err: { code?: string; status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err.status ?? 500).json({ code: err.code })
    })
  })

  const LOGIN = 'ERR_DISCOVERY_FAILED'
  const REFUSED = 'ERR_UNAUTHENTICATED'
  test.each<[string, string, Record<string, string>, string]>([
    ['a navigation (Fetch Metadata)', 'GET', { 'sec-fetch-mode': 'navigate', accept: 'text/html' }, LOGIN],
    ['a HEAD navigation', 'HEAD', { 'sec-fetch-mode': 'navigate', accept: 'text/html' }, LOGIN],
    ['a navigation from a browser without Fetch Metadata (Accept asks for HTML)', 'GET', { accept: 'text/html,application/xhtml+xml' }, LOGIN],
    ['a fetch() that asks for HTML: Sec-Fetch-Mode wins over Accept', 'GET', { 'sec-fetch-mode': 'cors', accept: 'text/html' }, REFUSED],
    ['a no-cors subresource that accepts anything', 'GET', { 'sec-fetch-mode': 'no-cors', accept: '*/*' }, REFUSED],
    ['an API client without Fetch Metadata', 'GET', { accept: 'application/json' }, REFUSED],
    ['a request with neither header', 'GET', {}, REFUSED],
    ['a form POST navigation: a login redirect would lose its body', 'POST', { 'sec-fetch-mode': 'navigate', accept: 'text/html' }, REFUSED],
    ['a DELETE', 'DELETE', { 'sec-fetch-mode': 'navigate', accept: 'text/html' }, REFUSED],
  ])('%s', async (_name, method, headers, code) => {
    let call = request(app)[method.toLowerCase() as 'get' | 'head' | 'post' | 'delete']('/page')
    for (const [name, value] of Object.entries(headers)) call = call.set(name, value)
    const answer = await call
    expect(answer.status).toBe(code === LOGIN ? 502 : 401)
    if (method !== 'HEAD') expect(answer.body).toEqual({ code })
  })
})

test('requiresAuth() asks its own instance, not whatever another middleware assigned to req.oidc', async () => {
  const stack = await startStack({
    routes: (app) => {
      app.get('/spoofed', (req, _res, next) => {
        ;(req as unknown as { oidc: unknown }).oidc = { isAuthenticated: () => true, user: { sub: 'admin' } }
        next()
      })
      app.get('/spoofed', requiresAuth(), (_req, res) => res.json({ passed: true }))
    },
  })
  try {
    const answer = await stack.browser().request(`${stack.baseURL}/spoofed`, { headers: { 'sec-fetch-mode': 'cors', accept: 'application/json' } })
    expect(answer.status).toBe(401)
  } finally {
    await stack.close()
  }
})
