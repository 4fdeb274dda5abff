import net from 'node:net'
import type { AddressInfo } from 'node:net'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { auth, requiresAuth } from 'express-par'

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
