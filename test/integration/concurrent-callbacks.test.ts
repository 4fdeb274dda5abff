/**
 * "No login swap" also for two callbacks of one pre-login session arriving together: the first
 * claims the session's one finishing login, the second only returns (refused while nobody is
 * logged in yet), so one code is redeemed and the browser stays in the first login's account.
 * Without the claim both redeemed their code and the last answer won: with a planted pending login
 * (a session cookie set from a sibling subdomain, no `__Host-` prefix), the attacker's callback
 * fired during the victim's token exchange could leave the victim in the attacker's account.
 * (Found by the security review.)
 */

import { PATHS } from '../support/hostile-op.js'
import { startInstancesApp, TestBrowser, type InstancesApp } from '../support/instances-app.js'

describe('two callbacks of one session at the same time', () => {
  let app: InstancesApp
  beforeAll(async () => {
    app = await startInstancesApp([{}], (routes) => routes.get('/me', (req, res) => res.json({ sub: req.oidc.user?.sub ?? null })))
  })
  afterAll(() => app.close())

  async function pendingCallback(browser: TestBrowser): Promise<string> {
    const start = await browser.request(`${app.baseURL}/login`)
    const atOP = await browser.request(start.headers.get('location')!)
    return atOP.headers.get('location')!
  }

  test('one code is redeemed; the second callback is refused and the browser stays in the first login', async () => {
    const browser = new TestBrowser()
    // The "attacker's" pending login (planted: here simply started first in the same session) and the victim's.
    const attackerCallback = await pendingCallback(browser)
    const victimCallback = await pendingCallback(browser)
    const subs = new Map([[new URL(attackerCallback).searchParams.get('state')!, 'mallory'], [new URL(victimCallback).searchParams.get('state')!, 'victim']])
    app.op.bend.idToken = (c) => c.sign({ ...c.claims, sub: subs.get(c.login.params.get('state')!) })
    let tokenCalls = 0
    app.op.bend.token = (valid) => ({ ...valid, delay: tokenCalls++ === 0 ? 300 : 450 }) // the victim's first, the attacker's a bit later

    const victim = browser.request(victimCallback)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const attacker = browser.request(attackerCallback)
    expect((await victim).status).toBe(302)
    const refused = await attacker
    expect(refused.status).toBe(400)
    expect(JSON.parse(refused.body).code).toBe('ERR_LOGIN_NOT_PENDING')
    delete app.op.bend.idToken
    delete app.op.bend.token

    expect(app.op.requests.filter((r) => r.path === PATHS.token).length).toBe(1)
    expect(JSON.parse((await browser.request(`${app.baseURL}/me`)).body).sub).toBe('victim')
  })
})

test('a login that failed releases the claim: the same session logs in at its next try', async () => {
  const app = await startInstancesApp([{}])
  try {
    const browser = new TestBrowser()
    app.op.bend.token = () => ({ status: 400, body: { error: 'invalid_grant' } })
    const start = await browser.request(`${app.baseURL}/login`)
    const atOP = await browser.request(start.headers.get('location')!)
    expect((await browser.request(atOP.headers.get('location')!)).status).toBe(400)
    delete app.op.bend.token
    await app.logIn(browser, '/login')
    expect(await app.loggedIn(browser, 'default')).toBe(true)
  } finally {
    await app.close()
  }
})
