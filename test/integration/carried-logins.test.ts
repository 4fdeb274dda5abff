/**
 * Logins of other instances carried into the new session id of a callback: their back-channel
 * logout index follows them (a login at the shop must not put the staff login out of the OP's
 * reach), and a logout of them that lands while the callback waits at the token endpoint is not
 * undone by the carry. (Found by the security review; these failed before the fix.)
 */

import { SAME_ORIGIN } from '../support/browser.js'
import { sessionId } from '../support/session-store.js'

import { startInstancesApp, TestBrowser, type InstancesApp } from '../support/instances-app.js'

describe('the back-channel logout index follows a login carried into a new session', () => {
  let app: InstancesApp
  beforeAll(async () => {
    app = await startInstancesApp([
      { name: 'staff', backchannelLogout: true },
      { name: 'shop', routes: { login: '/shop-login', callback: '/shop-callback', logout: '/shop-logout' } },
    ])
  })
  afterAll(() => app.close())

  test('control: a staff login alone is ended by the OP\'s logout token', async () => {
    const browser = new TestBrowser()
    const { sid, sub } = await app.logIn(browser, '/login')
    expect(await app.loggedIn(browser, 'staff')).toBe(true)
    expect((await app.backchannelLogout({ sid, sub })).status).toBe(200)
    expect(await app.loggedIn(browser, 'staff')).toBe(false)
  })

  test('after a shop login in the same browser, the staff login is still ended by its back-channel logout', async () => {
    const browser = new TestBrowser()
    const { sid, sub } = await app.logIn(browser, '/login') // staff, indexed under session S1
    await app.logIn(browser, '/shop-login') // regenerates S1 -> S2, carries the staff login
    expect(await app.loggedIn(browser, 'staff')).toBe(true)
    expect(await app.loggedIn(browser, 'shop')).toBe(true)

    // The OP ends alice's staff session (admin revocation, logout elsewhere): a valid token, accepted.
    expect((await app.backchannelLogout({ sid, sub })).status).toBe(200)
    // The same with only sub: every session of the user should end.
    expect((await app.backchannelLogout({ sub })).status).toBe(200)

    expect(await app.loggedIn(browser, 'staff')).toBe(false)
    expect(await app.loggedIn(browser, 'shop')).toBe(true) // the other instance's login stays
  })

  test('every later login at the other instance moves the staff login again, and its index with it', async () => {
    const browser = new TestBrowser()
    const first = await app.logIn(browser, '/login') // staff
    await app.logIn(browser, '/shop-login') // shop (S2)
    await app.logIn(browser, '/shop-login') // shop again (S3): the staff login moves once more
    expect(await app.loggedIn(browser, 'staff')).toBe(true)
    expect((await app.backchannelLogout({ sid: first.sid, sub: first.sub })).status).toBe(200)
    expect(await app.loggedIn(browser, 'staff')).toBe(false)
  })
})

describe('a callback in flight does not bring back another instance\'s login logged out meanwhile', () => {
  let app: InstancesApp
  beforeAll(async () => {
    app = await startInstancesApp([
      { name: 'staff', backchannelLogout: true },
      { name: 'shop', routes: { login: '/shop-login', callback: '/shop-callback', logout: '/shop-logout' } },
    ])
  })
  afterAll(() => app.close())

  async function shopCallbackInFlight(browser: TestBrowser): Promise<{ done: Promise<{ status: number }> }> {
    const start = await browser.request(`${app.baseURL}/shop-login`)
    const atOP = await browser.request(start.headers.get('location')!)
    const callbackURL = atOP.headers.get('location')!
    app.op.bend.token = (valid) => ({ ...valid, delay: 400 }) // an OP that takes 400 ms to answer
    const inFlight = browser.request(callbackURL)
    await new Promise((resolve) => setTimeout(resolve, 150)) // the callback has spent its state and waits at the token endpoint
    return { done: inFlight } // (wrapped: an async function returning the promise would wait for it)
  }

  afterEach(() => {
    delete app.op.bend.token
  })

  test('"log out of staff" in one tab while the shop login finishes in another: staff stays logged out', async () => {
    const browser = new TestBrowser()
    await app.logIn(browser, '/login')
    expect(await app.loggedIn(browser, 'staff')).toBe(true)

    const { done: callback } = await shopCallbackInFlight(browser)
    const out = await browser.request(`${app.baseURL}/logout`, { method: 'POST', headers: { ...SAME_ORIGIN } })
    expect(out.status).toBe(302)
    expect((await callback).status).toBe(302) // the shop login completed, cookie = the regenerated session
    expect(await app.loggedIn(browser, 'shop')).toBe(true)
    expect(await app.loggedIn(browser, 'staff')).toBe(false)
  })

  test('a back-channel logout of staff during the shop callback stays done', async () => {
    const browser = new TestBrowser()
    const { sid, sub } = await app.logIn(browser, '/login')
    const s1 = sessionId(browser, app.baseURL)!
    const { done: callback } = await shopCallbackInFlight(browser)
    expect((await app.backchannelLogout({ sid, sub })).status).toBe(200) // ends staff: the session (only staff logged in) is destroyed
    expect(Object.keys((app.store as unknown as { sessions: object }).sessions)).not.toContain(s1) // it did find and end it
    expect((await callback).status).toBe(302)
    expect(await app.loggedIn(browser, 'staff')).toBe(false)
    expect(await app.loggedIn(browser, 'shop')).toBe(true)
  })
})
