/**
 * Forged, replayed, tampered and cross-browser authorization responses. Every rejection answers
 * 4xx, creates no session, and never reaches the token endpoint (the code is not redeemed).
 * Sources: FAPI 2.0 client tests (FAPI2SPFinalClientTest*), RFC 9207 (iss), RFC 9700 §4.2.4 /
 * §4.7 (CSRF, code injection), RFC 6749 §4.1.2 / §3.1 (parameters), OIDC RP `rp-state`.
 */

import { PATHS, startHostileStack, useHostileStack } from '../support/hostile-stack.js'
import { startStack } from '../support/stack.js'
import type { TestBrowser } from '../support/browser.js'
import { editStoredSession, storedAuth } from '../support/session-store.js'
import type { SessionData } from 'express-session'

const stack = useHostileStack()

/** The callback URL the OP sent, with its query changed by `edit`. */
async function tamperedCallback(browser: TestBrowser, edit: (params: URLSearchParams) => void): Promise<string> {
  const url = new URL(await stack.authorize(browser))
  edit(url.searchParams)
  return url.href
}

async function expectRefusedBeforeTokenEndpoint(edit: (params: URLSearchParams) => void, status: number, code: string): Promise<void> {
  const browser = stack.browser()
  const page = await browser.request(await tamperedCallback(browser, edit))
  await stack.expectRejected(page, browser, status, code)
  expect(stack.op.count(PATHS.token)).toBe(0)
}

describe('refused authorization responses (the token endpoint is never called)', () => {
  const cases: Array<[string, string, (p: URLSearchParams) => void, number, string]> = [
    ['no state', 'FAPI2SPFinalClientTestEnsureAuthorizationResponseWithInvalidMissingStateFails', (p) => p.delete('state'), 400, 'ERR_CALLBACK_INVALID'],
    ['another state', 'FAPI2SPFinalClientTestEnsureAuthorizationResponseWithInvalidStateFails; rp-state', (p) => p.set('state', 'forged-state'), 400, 'ERR_LOGIN_NOT_PENDING'],
    ['state given twice', 'RFC 6749 §3.1 (parameters MUST NOT be included more than once)', (p) => p.append('state', p.get('state')!), 400, 'ERR_CALLBACK_INVALID'],
    ['an empty state', 'RFC 6749 §4.1.2', (p) => p.set('state', ''), 400, 'ERR_LOGIN_NOT_PENDING'],
    ['iss of another issuer (mix-up)', 'FAPI2SPFinalClientTestInvalidAuthorizationResponseIss; RFC 9207 §2.4', (p) => p.set('iss', 'https://attacker.example'), 400, 'ERR_ISSUER_MISMATCH'],
    ['no iss from an OP that advertises it', 'FAPI2SPFinalClientTestRemoveAuthorizationResponseIss; RFC 9207 §2.4', (p) => p.delete('iss'), 400, 'ERR_ISSUER_MISMATCH'],
    ['iss given twice', 'RFC 6749 §3.1', (p) => p.append('iss', p.get('iss')!), 400, 'ERR_CALLBACK_INVALID'],
    ['no code', 'RFC 6749 §4.1.2', (p) => p.delete('code'), 400, 'ERR_CALLBACK_INVALID'],
    ['an empty code', 'RFC 6749 §4.1.2', (p) => p.set('code', ''), 400, 'ERR_CALLBACK_INVALID'],
    ['code given twice', 'RFC 6749 §3.1', (p) => p.append('code', 'second-code'), 400, 'ERR_CALLBACK_INVALID'],
    ['an unknown parameter given twice', 'RFC 6749 §3.1 applies to every parameter', (p) => (p.append('foo', '1'), p.append('foo', '2')), 400, 'ERR_CALLBACK_INVALID'],
    ['session_state given twice', 'RFC 6749 §3.1', (p) => (p.append('session_state', 'a'), p.append('session_state', 'a')), 400, 'ERR_CALLBACK_INVALID'],
    ['error=access_denied', 'RFC 6749 §4.1.2.1', (p) => (p.delete('code'), p.set('error', 'access_denied')), 400, 'ERR_LOGIN_REFUSED'],
    ['error together with a code', 'RFC 6749 §4.1.2.1', (p) => p.set('error', 'login_required'), 400, 'ERR_LOGIN_REFUSED'],
    ['error=server_error: the OP failed, not the user', 'RFC 6749 §4.1.2.1', (p) => (p.delete('code'), p.set('error', 'server_error')), 502, 'ERR_OP_SERVER_ERROR'],
    ['error=temporarily_unavailable', 'RFC 6749 §4.1.2.1', (p) => (p.delete('code'), p.set('error', 'temporarily_unavailable')), 502, 'ERR_OP_SERVER_ERROR'],
    ['a JARM response parameter where none was asked for', 'FAPI2 JARM tests (response mode not requested)', (p) => p.set('response', 'a.b.c'), 400, 'ERR_CALLBACK_INVALID'],
  ]
  test.each(cases)('%s (%s)', async (_name, _source, edit, status, code) => {
    await expectRefusedBeforeTokenEndpoint(edit, status, code)
  })

  test('the OP error_description is kept on the error but never put in the message (no HTML from attacker input)', async () => {
    const html = '<script>alert(1)</script>'
    await expectRefusedBeforeTokenEndpoint((p) => (p.delete('code'), p.set('error', html), p.set('error_description', html)), 400, 'ERR_LOGIN_REFUSED')
    const err = stack.errors.at(-1)!
    expect(err.message).not.toContain('<')
    expect(err.errorDescription).toBe(html)
  })

  test.each(['server_error', 'temporarily_unavailable'])('the error_description of an OP failure (error=%s) never reaches the message either', async (error) => {
    const html = '<img src=x onerror=alert(1)>'
    await expectRefusedBeforeTokenEndpoint((p) => (p.delete('code'), p.set('error', error), p.set('error_description', html)), 502, 'ERR_OP_SERVER_ERROR')
    const err = stack.errors.at(-1)!
    expect(err.message).not.toMatch(/[<>]|onerror/)
    expect(err).toMatchObject({ error, errorDescription: html })
  })

  test('a callback with no query and no session', async () => {
    const browser = stack.browser()
    await stack.expectRejected(await browser.request(`${stack.baseURL}/callback`), browser, 400, 'ERR_CALLBACK_INVALID')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test('replay: the same callback opened twice redeems the code once (RFC 9700 §4.2.4)', async () => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    const first = await browser.request(callback)
    await stack.expectLoggedIn(first, browser)
    const second = await browser.request(callback)
    expect(second.status).toBe(400)
    expect(JSON.parse(second.body).code).toBe('ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(1)
  })

  test('a failed callback spends the pending login: the untampered one afterwards is refused too', async () => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    const forged = new URL(callback)
    forged.searchParams.set('iss', 'https://attacker.example')
    expect((await browser.request(forged.href)).status).toBe(400)
    await stack.expectRejected(await browser.request(callback), browser, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test("login CSRF: the attacker's callback opened in the victim's browser (RFC 9700 §4.7)", async () => {
    const attacker = stack.browser()
    const attackersCallback = await stack.authorize(attacker)
    const victim = stack.browser()
    await stack.expectRejected(await victim.request(attackersCallback), victim, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test("login CSRF while the victim has a login of their own pending: refused, and the victim's login still completes", async () => {
    const victim = stack.browser()
    const victimsCallback = await stack.authorize(victim)
    const attacker = stack.browser()
    const attackersCallback = await stack.authorize(attacker)
    await stack.expectRejected(await victim.request(attackersCallback), victim, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(0)
    await stack.expectLoggedIn(await victim.request(victimsCallback), victim)
  })

  test('a pending login older than its time to live (10 min) is refused', async () => {
    const realNow = Date.now
    try {
      const browser = stack.browser()
      const callback = await stack.authorize(browser)
      Date.now = () => realNow() + 11 * 60 * 1000
      await stack.expectRejected(await browser.request(callback), browser, 400, 'ERR_LOGIN_EXPIRED')
    } finally {
      Date.now = realNow
    }
    expect(stack.op.count(PATHS.token)).toBe(0)
  })
})

describe('accepted authorization responses', () => {
  test('unknown extra parameters, each once, are ignored (RFC 6749 §4.1.2: "MUST ignore unrecognized response parameters")', async () => {
    const browser = stack.browser()
    const callback = await tamperedCallback(browser, (p) => (p.set('session_state', 'abc.def'), p.append('foo', '1'), p.append('bar', '')))
    await stack.expectLoggedIn(await browser.request(callback), browser)
  })

  test('no iss from an OP that does not advertise authorization_response_iss_parameter_supported (RFC 9207 §2.4)', async () => {
    stack.op.bend.discovery = (m) => ({ ...m, authorization_response_iss_parameter_supported: false })
    const app = await startHostileStack({ op: stack.op })
    try {
      const browser = app.browser()
      const url = new URL(await app.authorize(browser))
      url.searchParams.delete('iss')
      await app.expectLoggedIn(await browser.request(url.href), browser)
    } finally {
      await app.close()
    }
  })

  test('two tabs: two pending logins in one browser both complete, in either order; the second only returns to its page', async () => {
    const browser = stack.browser()
    const first = await stack.authorize(browser)
    const second = await stack.authorize(browser)
    await stack.expectLoggedIn(await browser.request(second), browser)
    await stack.expectLoggedIn(await browser.request(first), browser)
    expect(stack.op.count(PATHS.token)).toBe(1) // the first login to finish logged the browser in
  })
})

describe('a pending login planted by an attacker who can set the session cookie (no __Host- prefix)', () => {
  /** The attacker's login: pending in their session, their callback URL (with their code) kept for later. */
  async function attackersPendingLogin() {
    const attacker = stack.browser()
    const start = await attacker.request(`${stack.baseURL}/login?returnTo=%2Fattacker`)
    const attackerState = stack.op.logins.at(-1)!.params.get('state')!
    stack.op.bend.idToken = (c) => c.sign({ ...c.claims, sub: c.login.params.get('state') === attackerState ? 'mallory' : 'alice' })
    const callback = (await attacker.request(start.headers.get('location')!)).headers.get('location')!
    return { cookie: attacker.jar.get('127.0.0.1')!.get('connect.sid')!, callback }
  }

  test("the victim logs in as themselves in the planted session; the attacker's callback opened later only returns, it never swaps the login", async () => {
    const planted = await attackersPendingLogin()
    const victim = stack.browser()
    victim.jar.set('127.0.0.1', new Map([['connect.sid', planted.cookie]]))
    expect(await stack.expectLoggedIn(await stack.login(victim), victim)).toMatchObject({ sub: 'alice' })

    const later = await victim.request(planted.callback)
    expect({ status: later.status, location: later.headers.get('location') }).toEqual({ status: 302, location: '/attacker' })
    const me = JSON.parse((await victim.request(`${stack.baseURL}/`)).body) as { claims: { sub: string } }
    expect(me.claims.sub).toBe('alice')
    expect(stack.op.count(PATHS.token)).toBe(1) // the attacker's code was never redeemed
  })

  test('a carried pending login whose session no longer holds a user is refused, not redeemed', async () => {
    const browser = stack.browser()
    const first = await stack.authorize(browser)
    const second = await stack.authorize(browser)
    await stack.expectLoggedIn(await browser.request(first), browser)
    editStoredSession(stack.store, browser, stack.baseURL, (session) => delete session.expressPar!.default!.login)
    await stack.expectRejected(await browser.request(second), browser, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(1)
  })
})

test("code injection: the attacker's code under the victim's state is refused by a real OP's PKCE check (RFC 9700 §4.5)", async () => {
  const real = await startStack()
  try {
    const attacker = real.browser()
    const attackersCode = new URL(await real.authorize(attacker)).searchParams.get('code')!
    const victim = real.browser()
    const victimsCallback = new URL(await real.authorize(victim))
    victimsCallback.searchParams.set('code', attackersCode)
    const page = await victim.request(victimsCallback.href)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 400, code: 'ERR_CODE_REJECTED' })
    expect(JSON.parse((await victim.request(`${real.baseURL}/`)).body)).toMatchObject({ authenticated: false })
    expect(real.opEvents.filter((e) => e.name === 'grant.error')).toHaveLength(1)
  } finally {
    await real.close()
  }
})

test('a callback opened twice at the same moment (double click, racing replay) logs in at most once with a real OP', async () => {
  const real = await startStack()
  try {
    const browser = real.browser()
    const callback = await real.authorize(browser)
    const pages = await Promise.all([browser.request(callback), browser.request(callback)])
    const statuses = pages.map((p) => p.status).sort()
    expect(statuses).toEqual([302, 400])
    const refused = pages.find((p) => p.status === 400)!
    expect(['ERR_LOGIN_NOT_PENDING', 'ERR_CODE_REJECTED']).toContain(JSON.parse(refused.body).code)
    const loggedIn = await new Promise<number>((resolve, reject) =>
      real.store.all((err, all) => (err ? reject(err) : resolve(Object.values(all ?? {}).filter((s) => storedAuth(s as SessionData)).length))),
    )
    expect(loggedIn).toBe(1)
  } finally {
    await real.close()
  }
})
