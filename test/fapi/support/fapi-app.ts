/**
 * An app using express-par over HTTPS (https://localhost:<port>, the test CA's certificate)
 * against the FAPI OP, with `profile: 'fapi2-security'` unless told otherwise. Besides `/` it
 * serves `/details` (req.oidc.authorizationDetails), `/accounts` (req.oidc.fetch() to the resource server) and `/refresh`
 * (req.oidc.accessToken.refresh()), answering JSON; errors are recorded and answered with their
 * status and code.
 */

import https from 'node:https'
import type { AddressInfo } from 'node:net'
import express from 'express'
import session, { MemoryStore, type SessionData } from 'express-session'
import { auth, type AuthOptions, type ExpressParError } from 'express-par'
import { TestBrowser, authorizeAtOP, type Page } from '../../support/browser.js'
import type { Pki } from '../../support/pki.js'
import { storedAuth } from '../../support/session-store.js'

export interface FapiApp {
  baseURL: string
  store: MemoryStore
  errors: ExpressParError[]
  browser(): TestBrowser
  /** /login, then the OP's forms: the callback URL, not opened. */
  authorize(browser: TestBrowser): Promise<string>
  /** A whole login: the app's answer to the callback. */
  login(browser: TestBrowser): Promise<Page>
  /** GET a path of the app as JSON: status and body. */
  get(browser: TestBrowser, path: string): Promise<{ status: number; body: Record<string, unknown> }>
  /** The stored logins of all sessions. */
  logins(): Array<NonNullable<NonNullable<SessionData['expressPar']>[string]['login']>>
  close(): Promise<void>
}

export async function startFapiApp(pki: Pki, options: { auth: Partial<AuthOptions>; resourceURL?: string }): Promise<FapiApp> {
  const server = https.createServer(pki.server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseURL = `https://localhost:${(server.address() as AddressInfo).port}`
  const store = new MemoryStore()
  const errors: ExpressParError[] = []
  const app = express()
  app.use(session({ secret: 'fapi-app-session-secret', resave: false, saveUninitialized: false, store }))
  app.use(auth({ baseURL, profile: 'fapi2-security', ...options.auth } as AuthOptions))
  app.get('/', (req, res) => {
    res.json({ authenticated: req.oidc.isAuthenticated(), tokenType: req.oidc.accessToken?.token_type ?? null, sub: req.oidc.user?.sub ?? null })
  })
  app.get('/details', (req, res) => {
    res.json({ sub: req.oidc.user?.sub ?? null, authorizationDetails: req.oidc.authorizationDetails ?? null })
  })
  app.get('/accounts', (req, res, next) => {
    req.oidc.fetch(`${options.resourceURL}/accounts`).then(async (answer) => res.status(answer.status).json(await answer.json()), next)
  })
  app.get('/refresh', (req, res, next) => {
    req.oidc.accessToken!.refresh().then((token) => res.json({ tokenType: token.token_type }), next)
  })
  app.use((err: ExpressParError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err)
    res.status(err.status ?? 500).json({ code: err.code ?? 'UNEXPECTED', message: err.message })
  })
  server.on('request', app)

  const fapiApp: FapiApp = {
    baseURL,
    store,
    errors,
    browser: () => new TestBrowser(),
    async authorize(browser) {
      const start = await browser.request(`${baseURL}/login`)
      if (start.status !== 302) throw new Error(`login answered ${start.status}: ${start.body}`)
      return authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`)
    },
    async login(browser) {
      return browser.request(await fapiApp.authorize(browser))
    },
    async get(browser, path) {
      const page = await browser.request(`${baseURL}${path}`, { headers: { accept: 'application/json' } })
      return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown> }
    },
    logins() {
      const all = (store as unknown as { sessions: Record<string, string> }).sessions
      return Object.values(all)
        .map((raw) => (JSON.parse(raw) as SessionData).expressPar?.default?.login)
        .filter((login): login is NonNullable<typeof login> => login !== undefined && storedAuth({ expressPar: { default: { login } } } as unknown as SessionData) !== undefined)
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return fapiApp
}
