import { spawnSync } from 'node:child_process'
import { createHash, createHmac } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { MemoryStore } from 'express-session'
import { createApp } from '../../example-app/app.js'
import { DEMO_USER, startLocalOP } from '../../example-app/local-op.js'
import { startExample } from '../../example-app/stack.js'
import { SAME_ORIGIN, TestBrowser, authorizeAtOP, endSessionAtOP } from '../support/browser.js'

/** The error page's sentence for the person in front of the browser. */
const explanation = (body: string) => /<p id="error-explanation">([^<]*)<\/p>/.exec(body)?.[1]

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
    // Values as a person reads them, not JSON: alice, not "alice"; true, not a JSON literal in quotes.
    expect(claims.body).toContain('<th>sub</th><td>alice</td>')
    expect(claims.body).toContain('<th>name</th><td>Alice Example</td>')
    expect(claims.body).toContain('<th>email_verified</th><td>true</td>')
    expect(claims.body).not.toContain('&quot;')
    expect((await browser.request(`${baseURL}/`)).body).toContain('Logged in as <strong>Alice Example</strong>')

    // Log out is a POST form on the app's own pages.
    expect((await browser.request(`${baseURL}/`)).body).toContain('<form class="inline" method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>')
    expect((await browser.request(`${baseURL}/logout`, { method: 'POST', headers: { ...SAME_ORIGIN, origin: baseURL } })).status).toBe(302)
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
    expect(explanation(page.body)).toBe('The login was cancelled or refused, so you are not logged in.')
    expect(page.body).toContain('<a id="try-again" href="/login">Try again</a>')
    expect(page.body).not.toContain('alert(1)') // the injected error_description is never rendered
    expect(page.body).not.toMatch(/at .*\.(js|ts):\d+/)
  })

  test('a spent or forged callback: a sentence without protocol words, the code, and a "Try again" that starts a new login', async () => {
    const browser = new TestBrowser()
    const page = await browser.request(`${baseURL}/callback?code=forged&state=forged`)
    expect(page.status).toBe(400)
    expect(page.body).toContain('<code id="error-code">ERR_LOGIN_NOT_PENDING</code>')
    const sentence = explanation(page.body)
    expect(sentence).toMatch(/^This login has expired or was already used .*Please log in again\.$/)
    expect(sentence).not.toMatch(/`|\b(state|callback|OP|PKCE|iss|pending|session)\b/)
    // express-par's message, for the developer, is folded away below it, escaped.
    expect(page.body).toMatch(/<details><summary>Details for the developer<\/summary><p>No login is pending [^<]*callback&#39;s[^<]*<\/p><\/details>/)
    const tryAgain = await browser.request(new URL(/id="try-again" href="([^"]+)"/.exec(page.body)![1]!, baseURL).href)
    expect(tryAgain.status).toBe(302)
    expect(new URL(tryAgain.headers.get('location')!).searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)
  })
})

// The example app's own hardening: headers, its session secret, what its error page shows.
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

  test('security headers (helmet): no X-Powered-By, no framing, a CSP that allows only its own script', async () => {
    const appURL = await serve(createApp({ auth: { issuerBaseURL: 'http://127.0.0.1:1', baseURL: 'http://127.0.0.1:3000', clientID: 'c', clientSecret: 's', allowInsecureRequests: true } }))
    const home = await new TestBrowser().request(`${appURL}/`)
    expect(home.headers.get('x-powered-by')).toBeNull()
    expect(home.headers.get('x-frame-options')).toBe('DENY')
    const csp = home.headers.get('content-security-policy')!
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('upgrade-insecure-requests') // http: here; https: apps get it
    // The page's one inline script is allowed by its hash, so the CSP does not break it.
    const script = /<script>([^<]*)<\/script>/.exec(home.body)![1]!
    const hash = createHash('sha256').update(script).digest('base64')
    expect(csp).toMatch(new RegExp(`script-src 'self' 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`))
  })

  test('over https, the session cookie is a __Host- cookie (no sibling subdomain can plant one)', async () => {
    const op = await startLocalOP({ clients: [{ client_id: 'c', client_secret: 'client-secret-0123456789', redirect_uris: ['https://app.example.com/callback'] }] })
    servers.push(op.close)
    const appURL = await serve(createApp({ auth: { issuerBaseURL: op.issuer, baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 'client-secret-0123456789', allowInsecureRequests: true } }))
    const start = await new TestBrowser().request(`${appURL}/login`, { headers: { 'x-forwarded-proto': 'https' } })
    expect(start.status).toBe(302)
    expect(start.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-sid=[^;]+; Path=\/;( Expires=[^;]+;)? HttpOnly; Secure; SameSite=Lax$/)])
    expect(start.headers.getSetCookie()[0]).not.toMatch(/Domain=/i)
  })

  test('no constant session secret: a cookie signed with the old built-in one opens no session', async () => {
    const store = new MemoryStore()
    const options = (baseURL: string) => ({ auth: { issuerBaseURL: 'http://127.0.0.1:1', baseURL, clientID: 'c', clientSecret: 's', allowInsecureRequests: true }, sessionStore: store, log: () => {} })
    const first = await serve(createApp(options('http://127.0.0.1:3000')))
    const second = await serve(createApp(options('http://127.0.0.1:3001')))
    const browser = new TestBrowser()
    const sid = 'planted'
    await new Promise<void>((resolve, reject) =>
      store.set(sid, { cookie: { originalMaxAge: null }, expressPar: { default: { login: { auth: { idToken: 'x', claims: { sub: 'alice', name: 'Alice' } }, id: 'l', at: Math.floor(Date.now() / 1000), seen: Math.floor(Date.now() / 1000), gen: 0 } } } } as never, (err) => (err ? reject(err) : resolve())),
    )
    // Signed as express-session (cookie-signature) signs: value.base64(HMAC-SHA256) without padding.
    const signed = `${sid}.${createHmac('sha256', 'example-app-session-secret').update(sid).digest('base64').replace(/=+$/, '')}`
    browser.jar.set('127.0.0.1', new Map([['connect.sid', encodeURIComponent(`s:${signed}`)]]))
    for (const appURL of [first, second]) expect((await browser.request(`${appURL}/`)).body).toContain('You are not logged in.')
  })

  test('with a real tenant, start.js refuses to run without SESSION_SECRET', () => {
    const run = spawnSync(process.execPath, [fileURLToPath(new URL('../../example-app/start.js', import.meta.url))], {
      env: { PATH: process.env.PATH, ISSUER_BASE_URL: 'https://op.example.com', CLIENT_ID: 'c', CLIENT_SECRET: 's', BASE_URL: 'https://app.example.com', PORT: '0' },
      encoding: 'utf8',
      timeout: 15000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('SESSION_SECRET must be set too')
  })

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

describe('the example as npm start runs it (startExample, two apps)', () => {
  let example: Awaited<ReturnType<typeof startExample>>
  beforeAll(async () => {
    example = await startExample({ appHost: '127.0.0.1', opHost: '127.0.0.1', twoApps: true })
  })
  afterAll(() => example.close())

  async function logIn(browser: TestBrowser, baseURL: string): Promise<void> {
    const start = await browser.request(`${baseURL}/login`)
    const callback = await authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`, { login: DEMO_USER })
    expect((await browser.request(callback)).status).toBe(302)
  }

  const profileOf = (browser: TestBrowser, baseURL: string) => browser.request(`${baseURL}/profile`, { headers: { 'sec-fetch-site': 'none' } })

  test('the profile shows the OP session\'s sid; Log out ends the OP session too (idpLogout, with the OP\'s confirmation)', async () => {
    const browser = new TestBrowser()
    await logIn(browser, example.baseURL)
    const profile = await profileOf(browser, example.baseURL)
    expect(profile.body).toMatch(/<code id="sid">[\w-]{10,}<\/code>/)
    const out = await browser.request(`${example.baseURL}/logout`, { method: 'POST', headers: { ...SAME_ORIGIN, origin: example.baseURL } })
    expect(new URL(out.headers.get('location')!).pathname).toBe('/session/end')
    expect((await browser.request(`${example.baseURL}/`)).body).toContain('You are not logged in.')
    // The OP asks to confirm; after it, its session is gone: a new login asks for the password again.
    const confirmed = await endSessionAtOP(browser, out.headers.get('location')!)
    expect(confirmed.headers.get('location')).toMatch(new RegExp(`^${example.baseURL}/\\?state=[\\w-]{43}$`)) // back home, with the state express-par sent
    const start = await browser.request(`${example.baseURL}/login`)
    const atOP = await browser.follow(start.headers.get('location')!, (url) => url.startsWith(`${example.baseURL}/callback`))
    expect(atOP.body).toContain('name="login"')
  })

  test('log out everywhere: logged in to both apps (one OP session), ending it at the OP logs both out over the back channel', async () => {
    const browser = new TestBrowser()
    await logIn(browser, example.baseURL)
    await logIn(browser, example.second!.baseURL) // single sign-on: no password the second time
    for (const baseURL of [example.baseURL, example.second!.baseURL]) expect((await profileOf(browser, baseURL)).status).toBe(200)
    const link = /<a id="end-op-session" href="([^"]+)"/.exec((await profileOf(browser, example.second!.baseURL)).body)![1]!.replace(/&amp;/g, '&')
    const ended = await endSessionAtOP(browser, link)
    expect(ended.headers.get('location')).toBe(`${example.second!.baseURL}/`)
    for (const baseURL of [example.baseURL, example.second!.baseURL]) expect((await profileOf(browser, baseURL)).status).toBe(302) // to login
  })
})
