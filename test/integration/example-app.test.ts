import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from '../../example-app/app.js'
import { DEMO_USER, startLocalOP } from '../../example-app/local-op.js'
import { startExample } from '../../example-app/stack.js'
import { SAME_ORIGIN, TestBrowser, authorizeAtOP, endSessionAtOP } from '../support/browser.js'

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
    expect(page.body).not.toContain('alert(1)') // the injected error_description is never rendered
    expect(page.body).not.toMatch(/at .*\.(js|ts):\d+/)
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
    expect(confirmed.headers.get('location')).toBe(`${example.baseURL}/`)
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
