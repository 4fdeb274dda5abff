/**
 * Several auth() instances in one app, isolated by `name`: a staff login at one OP and a shop
 * login at another, mounted at their own paths, plus two clients of one OP mounted side by side
 * at the root. Neither instance's login opens the other's routes, in either direction; callbacks,
 * logouts and pending logins stay with their instance.
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { NextFunction, Request, Response } from 'express'
import session, { MemoryStore } from 'express-session'
import { auth, requiresAuth, type AuthOptions, type ExpressParError } from 'express-par'
import { startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'
import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import type { ExpressModule } from '../support/stack.js'

type OP = Awaited<ReturnType<typeof startLocalOP>>

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

const client = (id: string, base: string) => ({
  client_id: id,
  client_secret: `${id}-secret-0123456789`,
  redirect_uris: [`${base}/callback`, `${base}-callback`],
  post_logout_redirect_uris: [`${base}/`],
})

describe.each(EXPRESS_VERSIONS)('instances isolated by name (%s)', (_version, express: ExpressModule) => {
  let server: http.Server
  let baseURL: string
  let staffOP: OP
  let shopOP: OP
  const store = new MemoryStore()
  const errors: ExpressParError[] = []

  const options = (op: OP, id: string, base: string, extra: Partial<AuthOptions> = {}): AuthOptions => ({
    issuerBaseURL: op.issuer,
    baseURL: base,
    clientID: id,
    clientSecret: `${id}-secret-0123456789`,
    allowInsecureRequests: true,
    ...extra,
  })

  beforeAll(async () => {
    server = http.createServer()
    baseURL = await listen(server)
    staffOP = await startLocalOP({ clients: [client('staff-client', `${baseURL}/staff`), client('admin-client', `${baseURL}/admin`)] })
    shopOP = await startLocalOP({ clients: [client('shop-client', `${baseURL}/shop`)] })

    const app = express()
    app.use(session({ secret: 'instances-secret', resave: false, saveUninitialized: false, store }))
    const me = (req: Request, res: Response) =>
      res.json({ authenticated: req.oidc?.isAuthenticated() ?? null, sub: req.oidc?.user?.sub ?? null, iss: req.oidc?.idTokenClaims?.iss ?? null })

    const staff = express.Router()
    staff.use(auth(options(staffOP, 'staff-client', `${baseURL}/staff`, { name: 'staff' })))
    staff.get('/me', me)
    staff.get('/area', requiresAuth(), me)
    app.use('/staff', staff)

    const shop = express.Router()
    shop.use(auth(options(shopOP, 'shop-client', `${baseURL}/shop`, { name: 'shop' })))
    shop.get('/me', me)
    shop.get('/area', requiresAuth(), me)
    app.use('/shop', shop)

    // Two clients of one OP side by side at the root: their own route paths, and requiresAuth({ name }).
    const adminRoutes = { login: '/admin-login', callback: '/admin-callback', logout: '/admin-logout' }
    app.use(auth(options(staffOP, 'admin-client', `${baseURL}`, { name: 'admin', routes: adminRoutes })))
    app.get('/admin/area', requiresAuth({ name: 'admin' }), me)
    app.get('/nowhere', me)
    app.get('/unknown-name', requiresAuth({ name: 'nobody' }), me)
    const twice = express.Router()
    twice.use(auth(options(shopOP, 'shop-client', `${baseURL}/shop`, { name: 'admin' })))
    twice.get('/me', me)
    app.use('/twice', twice)

    app.use((err: ExpressParError, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(err)
      res.status(err.status ?? 500).json({ code: err.code })
    })
    server.on('request', app)
  })
  afterAll(async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await staffOP.close()
    await shopOP.close()
  })

  const get = (browser: TestBrowser, path: string, headers: Record<string, string> = {}) => browser.request(`${baseURL}${path}`, { headers })
  const json = async (browser: TestBrowser, path: string) => JSON.parse((await get(browser, path)).body)
  const api = { 'sec-fetch-mode': 'cors', accept: 'application/json' }

  async function authorize(browser: TestBrowser, loginPath: string, callbackPath: string): Promise<string> {
    const start = await get(browser, loginPath)
    expect(start.status).toBe(302)
    return authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}${callbackPath}`)
  }
  const logIn = async (browser: TestBrowser, which: 'staff' | 'shop') => {
    const callback = await authorize(browser, `/${which}/login`, `/${which}/callback`)
    expect((await browser.request(callback)).status).toBe(302)
  }

  test('a shop login does not open the staff area, and a staff login does not open the shop', async () => {
    const customer = new TestBrowser()
    await logIn(customer, 'shop')
    expect(await json(customer, '/shop/me')).toEqual({ authenticated: true, sub: 'alice', iss: shopOP.issuer })
    expect(await json(customer, '/staff/me')).toEqual({ authenticated: false, sub: null, iss: null })
    expect((await get(customer, '/staff/area', api)).status).toBe(401)
    const navigation = await get(customer, '/staff/area')
    expect(new URL(navigation.headers.get('location')!).origin).toBe(staffOP.issuer) // sent to the staff OP

    const employee = new TestBrowser()
    await logIn(employee, 'staff')
    expect(await json(employee, '/staff/area')).toEqual({ authenticated: true, sub: 'alice', iss: staffOP.issuer })
    expect((await get(employee, '/shop/area', api)).status).toBe(401)
  })

  test('logged in at both, each instance sees its own login; logging out of one keeps the other', async () => {
    const browser = new TestBrowser()
    await logIn(browser, 'staff')
    await logIn(browser, 'shop') // the shop login regenerates the session and keeps the staff login
    expect((await json(browser, '/staff/me')).iss).toBe(staffOP.issuer)
    expect((await json(browser, '/shop/me')).iss).toBe(shopOP.issuer)
    expect((await get(browser, '/shop/logout', { 'sec-fetch-site': 'same-origin' })).status).toBe(302)
    expect((await json(browser, '/shop/me')).authenticated).toBe(false)
    expect(await json(browser, '/staff/me')).toEqual({ authenticated: true, sub: 'alice', iss: staffOP.issuer })
  })

  test('a callback of one instance opened under the other’s path is refused', async () => {
    const browser = new TestBrowser()
    const staffCallback = new URL(await authorize(browser, '/staff/login', '/staff/callback'))
    const underShop = `${baseURL}/shop/callback${staffCallback.search}`
    const refused = await browser.request(underShop)
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.body).code).toBe('ERR_LOGIN_NOT_PENDING')
    expect((await json(browser, '/shop/me')).authenticated).toBe(false)
    // The staff login, still pending under its own instance, completes.
    expect((await browser.request(staffCallback.href)).status).toBe(302)
    expect((await json(browser, '/staff/me')).authenticated).toBe(true)
  })

  test('a login pending at one instance while the other completes must start again (it could have been planted), then completes', async () => {
    const browser = new TestBrowser()
    const staffCallback = await authorize(browser, '/staff/login', '/staff/callback')
    const shopCallback = await authorize(browser, '/shop/login', '/shop/callback')
    expect((await browser.request(shopCallback)).status).toBe(302)
    // Carried into the new session, the staff login may only return to its page, and nobody is
    // logged in at the staff instance: redeeming it could log this browser in as someone else.
    const carried = await browser.request(staffCallback)
    expect(carried.status).toBe(400)
    expect(JSON.parse(carried.body).code).toBe('ERR_LOGIN_NOT_PENDING')
    await logIn(browser, 'staff')
    expect((await json(browser, '/staff/me')).iss).toBe(staffOP.issuer)
    expect((await json(browser, '/shop/me')).iss).toBe(shopOP.issuer)
  })

  test('pending logins of both instances in one session: each callback finds only its own', async () => {
    const browser = new TestBrowser()
    await authorize(browser, '/staff/login', '/staff/callback')
    await authorize(browser, '/shop/login', '/shop/callback')
    const pending = (await new Promise<Record<string, { expressPar?: Record<string, { pending?: object }> }>>((resolve, reject) =>
      store.all((err, all) => (err ? reject(err) : resolve((all ?? {}) as never))),
    ))
    const mine = Object.values(pending).find((s) => s.expressPar?.staff?.pending && s.expressPar?.shop?.pending)
    expect(Object.keys(mine!.expressPar!.staff!.pending!)).toHaveLength(1)
    expect(Object.keys(mine!.expressPar!.shop!.pending!)).toHaveLength(1)
  })

  test('two clients of one OP at the root: requiresAuth({ name }) checks the named one', async () => {
    const browser = new TestBrowser()
    await logIn(browser, 'staff') // same OP, the other client
    expect((await get(browser, '/admin/area', api)).status).toBe(401)
    const callback = await authorize(browser, '/admin-login', '/admin-callback')
    expect((await browser.request(callback)).status).toBe(302)
    expect(await json(browser, '/admin/area')).toEqual({ authenticated: true, sub: 'alice', iss: staffOP.issuer })
    expect((await json(browser, '/staff/me')).authenticated).toBe(true)
  })

  test('outside every mount path, req.oidc belongs to the root instance; a name nobody registered is a configuration error', async () => {
    const browser = new TestBrowser()
    await logIn(browser, 'staff')
    expect(await json(browser, '/nowhere')).toEqual({ authenticated: false, sub: null, iss: null }) // the root (admin) instance
    const unknown = await get(browser, '/unknown-name')
    expect(unknown.status).toBe(500)
    expect(JSON.parse(unknown.body).code).toBe('ERR_CONFIG_INVALID')
  })

  test('two instances with the same name on one request are refused, not merged', async () => {
    const answer = await get(new TestBrowser(), '/twice/me')
    expect(answer.status).toBe(500)
    expect(JSON.parse(answer.body).code).toBe('ERR_CONFIG_INVALID')
    expect(errors.at(-1)?.message).toContain('"admin"')
  })
})

test('an app with one instance mounted under a path: requests outside it have no req.oidc', async () => {
  const express = EXPRESS_VERSIONS[0]![1]
  const app = express()
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
  app.use('/members', auth({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com/members', clientID: 'c', clientSecret: 's' }))
  app.get('/members/page', (req, res) => res.json({ has: req.oidc !== undefined }))
  app.get('/public', (req, res) => res.json({ has: req.oidc !== undefined }))
  const server = http.createServer(app)
  const url = await listen(server)
  try {
    expect(await (await fetch(`${url}/members/page`)).json()).toEqual({ has: true })
    expect(await (await fetch(`${url}/public`)).json()).toEqual({ has: false })
  } finally {
    server.close()
  }
})
