import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from '../../example-app/app.js'
import { DEMO_USER, startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'

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
