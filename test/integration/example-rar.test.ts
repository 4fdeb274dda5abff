import { decodeJwt } from 'jose'
import { startExample } from '../../example-app/stack.js'
import { DEMO_USER } from '../../example-app/local-op.js'
import { DEMO_PAYMENT } from '../../example-app/rar-mode.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'

// The example app's payment consent (`npm start -- --jar --jarm --rar`), started as start.js starts
// it: signed requests (JAR) and signed responses (JARM) at the local OP, and the home page's "Pay"
// login asking consent for a payment (RFC 9396), whose grant the profile shows.
test('example app: a payment-consent login with JAR + JARM, the granted details on the profile page', async () => {
  const example = await startExample({ jar: true, jarm: true, rar: true, appHost: 'localhost', opHost: '127.0.0.1' })
  const pushed: Array<Record<string, unknown>> = []
  example.op.provider.on('pushed_authorization_request.success', (ctx: { oidc: { body: Record<string, string> } }) => pushed.push(decodeJwt(ctx.oidc.body.request!)))
  try {
    const browser = new TestBrowser()
    const home = await browser.request(`${example.baseURL}/`)
    expect(home.body).toContain('<a id="pay" href="/pay">')
    expect(home.body).toContain('<strong id="payment-amount">123.50 EUR</strong> to Merchant A')

    const start = await browser.request(`${example.baseURL}/pay`)
    expect(start.status).toBe(302)
    const callbackUrl = await authorizeAtOP(browser, start.headers.get('location')!, `${example.baseURL}/callback`, { login: DEMO_USER })
    expect([...new URL(callbackUrl).searchParams.keys()]).toEqual(['response'])
    expect((await browser.request(callbackUrl)).headers.get('location')).toBe('/profile')
    expect(pushed).toEqual([expect.objectContaining({ response_mode: 'jwt', authorization_details: [DEMO_PAYMENT] })])

    const profile = await browser.request(`${example.baseURL}/profile`)
    expect(profile.body).toContain('<h2>Granted authorization details</h2><table id="authorization-details"><tr><th>payment_initiation</th>')
    expect(profile.body).toContain('instructedAmount: currency: EUR; amount: 123.50')
    expect(profile.body).toContain('creditorName: Merchant A')

    // A plain login afterwards grants no payment: the profile shows no details.
    const again = await browser.request(`${example.baseURL}/login?returnTo=%2Fprofile`)
    await browser.request(await authorizeAtOP(browser, again.headers.get('location')!, `${example.baseURL}/callback`, { login: DEMO_USER }))
    expect((await browser.request(`${example.baseURL}/profile`)).body).not.toContain('authorization-details')
  } finally {
    await example.close()
  }
})

test('example app in JARM mode alone (`npm start -- --jarm`): the callback carries only the signed response, and the login completes', async () => {
  const example = await startExample({ jarm: true, appHost: 'localhost', opHost: '127.0.0.1' })
  try {
    const browser = new TestBrowser()
    const start = await browser.request(`${example.baseURL}/login?returnTo=%2Fprofile`)
    const callbackUrl = await authorizeAtOP(browser, start.headers.get('location')!, `${example.baseURL}/callback`, { login: DEMO_USER })
    expect([...new URL(callbackUrl).searchParams.keys()]).toEqual(['response'])
    expect((await browser.request(callbackUrl)).headers.get('location')).toBe('/profile')
    expect((await browser.request(`${example.baseURL}/profile`)).body).toContain('<th>sub</th><td>alice</td>')
    expect((await browser.request(`${example.baseURL}/`)).body).not.toContain('id="pay"')
  } finally {
    await example.close()
  }
})
