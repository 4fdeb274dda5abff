/**
 * An integration stack: the example app's local OP (oidc-provider, PAR and PKCE required) and an
 * Express app using express-par, each on its own loopback port, plus a log of what the OP saw.
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import express5 from 'express'
import session, { MemoryStore } from 'express-session'
import { auth, requiresAuth, type AuthOptions, type ExpressParError } from 'express-par'
import { startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP, type Page } from './browser.js'

export type ExpressModule = typeof express5

export interface StackOptions {
  /** The express module to build the app with (Express 5 by default; tests pass Express 4 too). */
  express?: ExpressModule
  /** Overrides of the app's `auth()` options. */
  auth?: Partial<AuthOptions>
  /** Overrides of the OP's client registration. */
  client?: Record<string, unknown> | ((baseURL: string) => Record<string, unknown>)
  /** oidc-provider features and configuration overrides. */
  opFeatures?: Record<string, unknown>
  opConfiguration?: Record<string, unknown>
  /** Koa middleware run at the OP before its own routes (after the request log). */
  opMiddleware?: Array<(ctx: any, next: () => Promise<void>) => Promise<void>> // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The session store (a fresh MemoryStore by default). */
  store?: MemoryStore
  /** Extra app routes, added before the error handlers. */
  appRoutes?: (app: express5.Express, issuer: string) => void
  /** An app error middleware run before the test's own error handler (which records and answers). */
  errorMiddleware?: (err: unknown, req: express5.Request, res: express5.Response, next: express5.NextFunction) => void
  /** express-session options over the defaults (e.g. a cookie `name`). */
  session?: Partial<session.SessionOptions>
  /** Adds the app's own middleware and routes after auth() (before the stack's `/` and `/protected`). */
  routes?: (app: express5.Express) => void
}

export interface Stack {
  issuer: string
  baseURL: string
  callbackPrefix: string
  op: Awaited<ReturnType<typeof startLocalOP>>
  store: MemoryStore
  /** Errors the app's error handler received. */
  errors: ExpressParError[]
  /** Paths of the requests the OP received, in order. */
  opRequests: string[]
  /** oidc-provider events by name, with their arguments. */
  opEvents: Array<{ name: string; args: unknown[] }>
  browser(): TestBrowser
  /** Starts a login at `path`, completes it at the OP, and returns the callback URL (not opened). */
  authorize(browser: TestBrowser, path?: string): Promise<string>
  /** A complete login: returns the app's answer to the callback. */
  login(browser: TestBrowser, path?: string): Promise<Page>
  close(): Promise<void>
}

export const CLIENT_ID = 'test-client'
export const CLIENT_SECRET = 'test-client-secret-0123456789'

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const OP_EVENTS = [
  'pushed_authorization_request.success',
  'pushed_authorization_request.error',
  'grant.success',
  'grant.error',
  'authorization.error',
  'server_error',
  'backchannel.success',
  'backchannel.error',
]

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const appServer = http.createServer()
  const baseURL = await listen(appServer)
  const opRequests: string[] = []
  const op = await startLocalOP({
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${baseURL}/callback`],
        post_logout_redirect_uris: [`${baseURL}/`],
        ...(typeof options.client === 'function' ? options.client(baseURL) : options.client),
      },
    ],
    features: options.opFeatures,
    configuration: options.opConfiguration,
    middleware: [
      async (ctx: { path: string }, next: () => Promise<void>) => {
        opRequests.push(ctx.path)
        await next()
      },
      ...(options.opMiddleware ?? []),
    ],
  })
  const opEvents: Stack['opEvents'] = []
  for (const name of OP_EVENTS) op.provider.on(name, (...args: unknown[]) => opEvents.push({ name, args }))

  const expressModule = options.express ?? express5
  const app = expressModule()
  const store = options.store ?? new MemoryStore()
  const errors: ExpressParError[] = []
  app.use(session({ secret: 'test-session-secret', resave: false, saveUninitialized: false, store, ...options.session }))
  app.use(
    auth({
      issuerBaseURL: op.issuer,
      baseURL,
      clientID: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      allowInsecureRequests: true,
      ...options.auth,
    } as AuthOptions),
  )
  options.routes?.(app as express5.Express)
  app.get('/', (req, res) => {
    res.json({ authenticated: req.oidc.isAuthenticated(), user: req.oidc.user ?? null })
  })
  app.get('/protected', requiresAuth(), (req, res) => {
    res.json({ user: req.oidc.user, idTokenClaims: req.oidc.idTokenClaims, accessToken: req.oidc.accessToken?.access_token })
  })
  options.appRoutes?.(app as express5.Express, op.issuer)
  if (options.errorMiddleware) app.use(options.errorMiddleware)
  app.use((err: ExpressParError, _req: express5.Request, res: express5.Response, _next: express5.NextFunction) => {
    errors.push(err)
    res.status(err.status ?? 500).json({ code: err.code ?? 'UNEXPECTED', message: err.message })
  })
  appServer.on('request', app)

  const callbackPrefix = `${baseURL}/callback`
  const stack: Stack = {
    issuer: op.issuer,
    baseURL,
    callbackPrefix,
    op,
    store,
    errors,
    opRequests,
    opEvents,
    browser: () => new TestBrowser(),
    async authorize(browser, path = '/login') {
      const start = await browser.request(`${baseURL}${path}`)
      if (start.status !== 302) throw new Error(`login at ${path} answered ${start.status}: ${start.body}`)
      return authorizeAtOP(browser, start.headers.get('location')!, callbackPrefix)
    },
    async login(browser, path) {
      return browser.request(await stack.authorize(browser, path))
    },
    async close() {
      appServer.closeAllConnections()
      await new Promise<void>((resolve) => appServer.close(() => resolve()))
      await op.close()
    },
  }
  return stack
}
