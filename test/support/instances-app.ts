/**
 * One Express app on the misbehaving OP with one or more auth() instances at the root, side by
 * side (their own route paths): for what crosses instances in one session (carried-logins.test.ts).
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { randomUUID } from 'node:crypto'
import express from 'express'
import session, { MemoryStore } from 'express-session'
import { auth, requiresAuth, type AuthOptions, type ExpressParError } from 'express-par'
import { TestBrowser } from './browser.js'
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, startHostileOP, type HostileOP } from './hostile-op.js'

export const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
export const now = () => Math.floor(Date.now() / 1000)

export interface InstancesApp {
  op: HostileOP
  baseURL: string
  store: MemoryStore
  errors: ExpressParError[]
  /** Logs `browser` in at the instance whose login route is `loginPath`, with an ID token carrying `sid`/`sub`. */
  logIn(browser: TestBrowser, loginPath: string, claims?: { sid?: string; sub?: string }): Promise<{ sid: string; sub: string }>
  /** Whether `browser` is logged in at the named instance (GET /status/:name). */
  loggedIn(browser: TestBrowser, name: string): Promise<boolean>
  /** POSTs a valid logout token naming `named` to `path`. */
  backchannelLogout(named: Record<string, unknown>, path?: string): Promise<Response>
  close(): Promise<void>
}

export async function startInstancesApp(
  instances: Array<Partial<AuthOptions>>,
  extraRoutes?: (app: express.Express) => void,
  beforeAuth?: (app: express.Express) => void,
  sessionOptions: Partial<session.SessionOptions> = {},
): Promise<InstancesApp> {
  const op = await startHostileOP()
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const store = new MemoryStore()
  const errors: ExpressParError[] = []
  const app = express()
  app.use(session({ secret: 'review-secret', resave: false, saveUninitialized: false, store, ...sessionOptions }))
  beforeAuth?.(app)
  for (const options of instances) {
    app.use(auth({ issuerBaseURL: op.issuer, baseURL, clientID: HOSTILE_CLIENT_ID, clientSecret: HOSTILE_CLIENT_SECRET, allowInsecureRequests: true, httpTimeout: 1500, ...options } as AuthOptions))
  }
  for (const options of instances) {
    const name = options.name ?? 'default'
    app.get(`/status/${name}`, (req, res, next) => requiresAuth({ name })(req, res, next), (req, res) => res.json({ sub: req.oidc.user?.sub }))
  }
  extraRoutes?.(app)
  app.use((err: ExpressParError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err)
    res.status(err.status ?? 500).json({ code: err.code ?? 'UNEXPECTED', message: err.message })
  })
  server.on('request', app)

  const instancesApp: InstancesApp = {
    op,
    baseURL,
    store,
    errors,
    async logIn(browser, loginPath, claims = {}) {
      const sid = claims.sid ?? randomUUID()
      const sub = claims.sub ?? 'alice'
      op.bend.idToken = (c) => c.sign({ ...c.claims, sub, sid })
      const start = await browser.request(`${baseURL}${loginPath}`)
      if (start.status !== 302) throw new Error(`login ${loginPath}: ${start.status} ${start.body}`)
      const atOP = await browser.request(start.headers.get('location')!)
      const callback = await browser.request(atOP.headers.get('location')!)
      delete op.bend.idToken
      if (callback.status !== 302) throw new Error(`callback of ${loginPath}: ${callback.status} ${callback.body}`)
      return { sid, sub }
    },
    async loggedIn(browser, name) {
      // Not a navigation: requiresAuth answers 401 instead of redirecting.
      const page = await browser.request(`${baseURL}/status/${name}`, { headers: { 'sec-fetch-mode': 'cors', accept: 'application/json' } })
      if (page.status !== 200 && page.status !== 401) throw new Error(`status ${name}: ${page.status} ${page.body}`)
      return page.status === 200
    },
    async backchannelLogout(named, path = '/backchannel-logout') {
      const token = await op.sign(
        { iss: op.issuer, aud: HOSTILE_CLIENT_ID, iat: now(), exp: now() + 120, jti: randomUUID(), events: { [EVENT]: {} }, ...named },
        { header: { typ: 'logout+jwt' } },
      )
      return fetch(`${baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }).toString() })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await op.close()
    },
  }
  return instancesApp
}

export { TestBrowser }
