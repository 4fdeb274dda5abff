/**
 * An app using express-par against the misbehaving OP of `hostile-op.ts`, with the checks every
 * rejection must pass: the expected status and code, no logged-in session anywhere in the store,
 * and (after a bad authorization response) no call to the token endpoint.
 */

import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import express from 'express'
import session, { MemoryStore, type SessionData } from 'express-session'
import { auth, type AuthOptions, type ExpressParError } from 'express-par'
import { TestBrowser, type Page } from './browser.js'
import { storedAuth } from './session-store.js'
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, PATHS, startHostileOP, type HostileOP, type HostileOPOptions } from './hostile-op.js'

export interface HostileStack {
  op: HostileOP
  baseURL: string
  store: MemoryStore
  /** Errors the app's error handler received. */
  errors: ExpressParError[]
  browser(): TestBrowser
  /** GET /login; returns the app's answer (302 to the OP on success). */
  startLogin(browser: TestBrowser): Promise<Page>
  /** Starts a login and lets the OP answer; returns the callback URL the OP sent the browser to. */
  authorize(browser: TestBrowser): Promise<string>
  /** A whole login: the app's answer to the callback. */
  login(browser: TestBrowser): Promise<Page>
  /** All sessions in the store. */
  sessions(): Promise<SessionData[]>
  /** Whether any session in the store holds a logged-in user. */
  anyLoggedIn(): Promise<boolean>
  /** Asserts `page` is a rejection with `status` and `code`, and that nobody is logged in. */
  expectRejected(page: Page, browser: TestBrowser, status: number, code: string): Promise<void>
  /** Asserts `page` completed a login: a redirect and a logged-in session for `browser`. */
  expectLoggedIn(page: Page, browser: TestBrowser): Promise<Record<string, unknown>>
  close(): Promise<void>
}

async function listen(server: http.Server, protocol: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `${protocol}://${protocol === 'https' ? 'localhost' : '127.0.0.1'}:${(server.address() as AddressInfo).port}`
}

export interface HostileStackOptions {
  auth?: Partial<AuthOptions>
  /** An OP to share (several apps, one OP); default: a new one started with `opOptions`, closed with the stack. */
  op?: HostileOP
  opOptions?: HostileOPOptions
  /** Serve the app over https (at https://localhost:port) with this certificate. */
  tls?: { key: string; cert: string }
  /** The session store (share one between stacks to play several instances); default a new MemoryStore. */
  store?: MemoryStore
  /** The app's own middleware before auth() (e.g. a body parser). */
  beforeAuth?: (app: express.Express) => void
  /** The app's own middleware and routes after auth() (before the stack's `/`). */
  routes?: (app: express.Express) => void
}

/** Starts a hostile OP (or uses `op`) and an app whose `auth()` points at it. */
export async function startHostileStack(options: HostileStackOptions = {}): Promise<HostileStack> {
  const op = options.op ?? (await startHostileOP(options.opOptions))
  const appServer = options.tls ? https.createServer(options.tls) : http.createServer()
  const baseURL = await listen(appServer, options.tls ? 'https' : 'http')
  const app = express()
  const store = options.store ?? new MemoryStore()
  const errors: ExpressParError[] = []
  app.use(session({ secret: 'hostile-session-secret', resave: false, saveUninitialized: false, store }))
  options.beforeAuth?.(app)
  app.use(
    auth({
      issuerBaseURL: op.issuer,
      baseURL,
      clientID: HOSTILE_CLIENT_ID,
      clientSecret: HOSTILE_CLIENT_SECRET,
      allowInsecureRequests: true,
      httpTimeout: 1500,
      ...options.auth,
    } as AuthOptions),
  )
  options.routes?.(app)
  app.get('/', (req, res) => {
    res.json({ authenticated: req.oidc.isAuthenticated(), claims: req.oidc.idTokenClaims ?? null, token: req.oidc.accessToken ?? null })
  })
  // What an app would read from req.oidc.user, beyond its JSON (a prototype does not show in JSON).
  app.get('/user', (req, res) => {
    const user = req.oidc.user as Record<string, unknown> | undefined
    if (!user) return void res.json(null)
    res.json({
      keys: Object.keys(user),
      prototypeIsObject: Object.getPrototypeOf(user) === Object.prototype,
      isAdmin: user.isAdmin ?? null,
      claimKeys: Object.keys(req.oidc.idTokenClaims!),
    })
  })
  app.get('/fetch', (req, res, next) => {
    req.oidc.fetch(String(req.query.url)).then(async (answer) => res.status(answer.status).send(await answer.text()), next)
  })
  app.get('/refresh', (req, res, next) => {
    req.oidc.accessToken!.refresh().then((token) => res.json({ token_type: token.token_type }), next)
  })
  app.use((err: ExpressParError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    errors.push(err)
    res.status(err.status ?? 500).json({ code: err.code ?? 'UNEXPECTED', message: err.message })
  })
  appServer.on('request', app)

  const sessions = () =>
    new Promise<SessionData[]>((resolve, reject) =>
      store.all((err, all) => (err ? reject(err) : resolve(Object.values((all ?? {}) as Record<string, SessionData>)))),
    )

  const stack: HostileStack = {
    op,
    baseURL,
    store,
    errors,
    browser: () => new TestBrowser(),
    startLogin: (browser) => browser.request(`${baseURL}/login`),
    async authorize(browser) {
      const start = await stack.startLogin(browser)
      if (start.status !== 302) throw new Error(`login answered ${start.status}: ${start.body}`)
      const atOP = await browser.request(start.headers.get('location')!)
      if (atOP.status !== 302) throw new Error(`the OP's authorization endpoint answered ${atOP.status}: ${atOP.body}`)
      return atOP.headers.get('location')!
    },
    async login(browser) {
      return browser.request(await stack.authorize(browser))
    },
    sessions,
    async anyLoggedIn() {
      return (await sessions()).some((s) => storedAuth(s) !== undefined)
    },
    async expectRejected(page, browser, status, code) {
      expect({ status: page.status, code: safeCode(page.body) }).toEqual({ status, code })
      expect(page.headers.get('location')).toBeNull()
      expect(await stack.anyLoggedIn()).toBe(false)
      const me = await browser.request(`${baseURL}/`)
      expect(JSON.parse(me.body)).toMatchObject({ authenticated: false })
    },
    async expectLoggedIn(page, browser) {
      expect({ status: page.status, body: page.status === 302 ? '' : page.body.slice(0, 300) }).toEqual({ status: 302, body: '' })
      const me = JSON.parse((await browser.request(`${baseURL}/`)).body) as { authenticated: boolean; claims: Record<string, unknown> }
      expect(me.authenticated).toBe(true)
      return me.claims
    },
    async close() {
      appServer.closeAllConnections()
      await new Promise<void>((resolve) => appServer.close(() => resolve()))
      if (!options.op) await op.close()
    },
  }
  return stack
}

/**
 * One hostile stack shared by a test file: started before its tests, reset (OP bends, request log,
 * session store) before each, closed after them. The returned object always reaches that stack.
 */
export function useHostileStack(options: Parameters<typeof startHostileStack>[0] = {}): HostileStack {
  let current: HostileStack | undefined
  beforeAll(async () => {
    current = await startHostileStack(options)
  })
  afterAll(() => current?.close())
  beforeEach(async () => {
    await current!.op.reset()
    current!.store.clear()
  })
  return new Proxy({} as HostileStack, { get: (_target, key) => Reflect.get(current!, key) })
}

function safeCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { code?: string }).code
  } catch {
    return `(not JSON: ${body.slice(0, 80)})`
  }
}

export { PATHS }
