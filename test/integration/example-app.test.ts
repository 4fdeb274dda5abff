import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from '../../example-app/app.js'
import { DEMO_USER, startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'

// The example app as `npm start` runs it: its own pages, its error page, its local OP.
describe('example app', () => {
  let close: () => Promise<void>
  let baseURL: string

  beforeAll(async () => {
    const server = http.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const op = await startLocalOP({
      clients: [{ client_id: 'example-app', client_secret: 'example-app-secret', redirect_uris: [`${baseURL}/callback`] }],
    })
    const app = createApp({
      auth: { issuerBaseURL: op.issuer, baseURL, clientID: 'example-app', clientSecret: 'example-app-secret', allowInsecureRequests: true },
    })
    server.on('request', app)
    close = async () => {
      server.closeAllConnections()
      server.close()
      await op.close()
    }
  })
  afterAll(() => close())

  test('home, login as the demo user, profile with claims, logout', async () => {
    const browser = new TestBrowser()
    const home = await browser.request(`${baseURL}/`)
    expect(home.body).toContain('id="login" href="/login?returnTo=%2Fprofile"')

    const profile = await browser.request(`${baseURL}/profile`)
    expect(profile.status).toBe(302)
    const callbackUrl = await authorizeAtOP(browser, profile.headers.get('location')!, `${baseURL}/callback`, { login: DEMO_USER })
    expect((await browser.request(callbackUrl)).headers.get('location')).toBe('/profile')

    const claims = await browser.request(`${baseURL}/profile`)
    expect(claims.status).toBe(200)
    expect(claims.body).toContain('<th>sub</th><td>&quot;alice&quot;</td>')
    expect(claims.body).toContain('Alice Example')
    expect((await browser.request(`${baseURL}/`)).body).toContain('Logged in as <strong>Alice Example</strong>')

    await browser.request(`${baseURL}/logout`)
    expect((await browser.request(`${baseURL}/`)).body).toContain('You are not logged in.')
  })

  test('an OP error becomes the app error page, escaped, without a stack trace', async () => {
    const browser = new TestBrowser()
    const start = await browser.request(`${baseURL}/login`)
    const callbackUrl = new URL(await authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`, { abort: true }))
    callbackUrl.searchParams.set('error_description', '<script>alert(1)</script>')
    const page = await browser.request(callbackUrl.href)
    expect(page.status).toBe(400)
    expect(page.body).toContain('<code id="error-code">ERR_LOGIN_REFUSED</code>')
    expect(page.body).not.toContain('alert(1)') // the injected error_description is never rendered
    expect(page.body).not.toMatch(/at .*\.(js|ts):\d+/)
  })
})

// The example app's own hardening: what its error page shows.
describe('example app hardening', () => {
  const servers: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const close of servers.splice(0)) await close()
  })

  async function serve(app: http.RequestListener): Promise<string> {
    const server = http.createServer(app)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    servers.push(async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  async function freePort(): Promise<number> {
    const probe = http.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    return port
  }

  test("an unreachable OP: the error page says so without the OP's address, which stays in the log", async () => {
    const opPort = await freePort()
    const logged: Error[] = []
    const appURL = await serve(
      createApp({ auth: { issuerBaseURL: `http://127.0.0.1:${opPort}`, baseURL: 'http://127.0.0.1:3000', clientID: 'c', clientSecret: 's', allowInsecureRequests: true }, log: (err: Error) => logged.push(err) }),
    )
    const page = await new TestBrowser().request(`${appURL}/login`)
    expect(page.status).toBe(502)
    expect(page.body).toContain('connection refused')
    expect(page.body).not.toContain(String(opPort))
    expect(page.body).not.toMatch(/ECONNREFUSED|fetch failed/)
    expect(logged).toHaveLength(1)
    const chain: unknown[] = []
    for (let e: unknown = logged[0]; e; e = (e as { cause?: unknown }).cause) chain.push(e)
    expect(chain.some((e) => (e as { code?: string }).code === 'ECONNREFUSED' && String((e as { message?: string }).message).includes(String(opPort)))).toBe(true)
  })
})
