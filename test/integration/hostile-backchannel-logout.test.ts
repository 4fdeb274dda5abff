/**
 * Back-channel logout against a misbehaving OP: every rule a logout token must pass has a token
 * that breaks only that rule, and each is refused with a 400 OAuth error JSON that changes
 * nothing (the session stays logged in, and the token's `jti` is not spent: the same `jti` in a
 * valid token is accepted afterwards). The route is public, so it also faces floods of unknown
 * `kid`s, oversized bodies, replays across instances and failing stores: never a 500, never HTML.
 */

import http from 'node:http'
import { randomUUID } from 'node:crypto'
import express from 'express'
import { MemoryStore } from 'express-session'
import { SignJWT } from 'jose'
import { memoryCoordination, type Coordination } from 'express-par'
import type { TestBrowser } from '../support/browser.js'
import { FailingStore } from '../support/failing-store.js'
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, startHostileOP, type HostileOP, type OpKey } from '../support/hostile-op.js'
import { startHostileStack, useHostileStack, type HostileStack } from '../support/hostile-stack.js'
import { editStoredSession, sessionId } from '../support/session-store.js'

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const now = () => Math.floor(Date.now() / 1000)

/** Logs a new browser in as `sub`, with an ID token carrying `sid`. */
async function logIn(stack: HostileStack, { sid = randomUUID(), sub = 'alice' } = {}): Promise<{ browser: TestBrowser; sid: string; sub: string }> {
  stack.op.bend.idToken = (c) => c.sign({ ...c.claims, sub, sid })
  const browser = stack.browser()
  await stack.expectLoggedIn(await stack.login(browser), browser)
  delete stack.op.bend.idToken
  return { browser, sid, sub }
}

/** The claims of a valid logout token of `stack`'s OP for this client. */
function logoutClaims(op: HostileOP, named: Record<string, unknown>): Record<string, unknown> {
  return { iss: op.issuer, aud: HOSTILE_CLIENT_ID, iat: now(), exp: now() + 120, jti: randomUUID(), events: { [EVENT]: {} }, ...named }
}

const logoutToken = (op: HostileOP, named: Record<string, unknown>, header: Record<string, unknown> = { typ: 'logout+jwt' }) => op.sign(logoutClaims(op, named), { header })

/** What the OP does: POST the form to the app's back-channel logout route. */
function post(stack: HostileStack, body: string | URLSearchParams, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }) {
  return fetch(`${stack.baseURL}/backchannel-logout`, { method: 'POST', headers, body: body.toString() })
}

const postToken = (stack: HostileStack, token: string) => post(stack, new URLSearchParams({ logout_token: token }))

async function expectAccepted(response: Response): Promise<void> {
  expect({ status: response.status, body: await response.text() }).toEqual({ status: 200, body: '' })
  expect(response.headers.get('cache-control')).toBe('no-store')
}

/** A 400 with the OAuth error JSON, no-store, whose description matches `why`. */
async function expectRefused(response: Response, why: RegExp): Promise<void> {
  const text = await response.text()
  expect(response.status).toBe(400)
  expect(response.headers.get('content-type')).toMatch(/^application\/json/)
  expect(response.headers.get('cache-control')).toBe('no-store')
  const body = JSON.parse(text) as { error: string; error_description: string }
  expect(body.error).toBe('invalid_request')
  expect(body.error_description).toMatch(why)
}

const isLoggedIn = async (stack: HostileStack, browser: TestBrowser) => JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated as boolean
const storeSnapshot = async (stack: HostileStack) => JSON.stringify((stack.store as unknown as { sessions: Record<string, string> }).sessions)

describe('back-channel logout', () => {
  const stack = useHostileStack({ auth: { backchannelLogout: true } })

  test('a valid logout token (sid and sub) ends that session: 200, no-store, empty body; the browser is logged out on its next request', async () => {
    const { browser, sid, sub } = await logIn(stack)
    const other = await logIn(stack, { sub: 'bob' })
    const id = sessionId(browser, stack.baseURL)!
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid, sub })))
    expect((stack.store as unknown as { sessions: Record<string, string> }).sessions[id]).toBeUndefined()
    expect(await isLoggedIn(stack, browser)).toBe(false)
    expect(await isLoggedIn(stack, other.browser)).toBe(true)
  })

  test('a token with only sid ends the sessions of that OP session, and no other session of the user', async () => {
    const first = await logIn(stack, { sub: 'carol' })
    const second = await logIn(stack, { sub: 'carol' })
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid: first.sid })))
    expect(await isLoggedIn(stack, first.browser)).toBe(false)
    expect(await isLoggedIn(stack, second.browser)).toBe(true)
  })

  test('a token with only sub ends every session of that user at this OP, and no other user\'s', async () => {
    const browsers = [await logIn(stack, { sub: 'dave' }), await logIn(stack, { sub: 'dave' })]
    const erin = await logIn(stack, { sub: 'erin' })
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sub: 'dave' })))
    for (const { browser } of browsers) expect(await isLoggedIn(stack, browser)).toBe(false)
    expect(await isLoggedIn(stack, erin.browser)).toBe(true)
  })

  test('with sid and sub both present, both must match: a right sid with another sub ends nothing (200)', async () => {
    const { browser, sid } = await logIn(stack, { sub: 'frank' })
    const before = await storeSnapshot(stack)
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid, sub: 'mallory' })))
    expect(await storeSnapshot(stack)).toBe(before)
    expect(await isLoggedIn(stack, browser)).toBe(true)
  })

  test('a token for a session the app does not have ends nothing and is still a 200 (§2.8)', async () => {
    const { browser } = await logIn(stack)
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid: 'unknown-sid', sub: 'nobody' })))
    expect(await isLoggedIn(stack, browser)).toBe(true)
  })

  test('typ logout+jwt may be written application/logout+jwt, or left out', async () => {
    for (const header of [{ typ: 'application/logout+jwt' }, { typ: 'Logout+JWT' }, {}]) {
      const { browser, sid } = await logIn(stack)
      await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid }, header)))
      expect(await isLoggedIn(stack, browser)).toBe(false)
    }
  })

  test('timestamps within clockTolerance (60 s) are accepted: exp 30 s ago, or iat 30 s ahead', async () => {
    for (const times of [{ iat: now() - 90, exp: now() - 30 }, { iat: now() + 30, exp: now() + 150 }]) {
      const { browser, sid } = await logIn(stack)
      await expectAccepted(await postToken(stack, await stack.op.sign({ ...logoutClaims(stack.op, { sid }), ...times }, { header: { typ: 'logout+jwt' } })))
      expect(await isLoggedIn(stack, browser)).toBe(false)
    }
  })

  test('an indexed session whose login now belongs to another OP session is left alone (the index is checked, not trusted)', async () => {
    const { browser, sid } = await logIn(stack)
    editStoredSession(stack.store, browser, stack.baseURL, (session) => {
      session.expressPar!.default!.login!.opSession = { iss: stack.op.issuer, sub: 'alice', sid: 'another-op-session' }
    })
    const before = await storeSnapshot(stack)
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid })))
    expect(await storeSnapshot(stack)).toBe(before)
    expect(await isLoggedIn(stack, browser)).toBe(true)
  })

  test('the token is accepted once: the same token again is refused as a replay', async () => {
    const { sid } = await logIn(stack)
    const token = await logoutToken(stack.op, { sid })
    await expectAccepted(await postToken(stack, token))
    await expectRefused(await postToken(stack, token), /accepted before \(its jti is in the replay cache\)/)
  })

  test('another instance\'s login in the same session stays: the session is written back, not destroyed (name isolation)', async () => {
    const { browser, sid } = await logIn(stack)
    editStoredSession(stack.store, browser, stack.baseURL, (session) => {
      session.expressPar!.staff = { login: { ...session.expressPar!.default!.login!, id: 'staff-login' } }
    })
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid })))
    expect(await isLoggedIn(stack, browser)).toBe(false)
    const stored = JSON.parse((stack.store as unknown as { sessions: Record<string, string> }).sessions[sessionId(browser, stack.baseURL)!]!)
    expect(Object.keys(stored.expressPar)).toEqual(['staff'])
    expect(stored.expressPar.staff.login.id).toBe('staff-login')
  })

  describe('every rule, broken alone: 400 invalid_request, the session stays, and the jti is not spent', () => {
    type Make = (op: HostileOP, named: { sid: string; sub: string }, jti: string) => Promise<string>
    const claims = (op: HostileOP, named: { sid: string; sub: string }, jti: string, over: Record<string, unknown> = {}) => {
      const all: Record<string, unknown> = { ...logoutClaims(op, named), jti, ...over }
      for (const [name, value] of Object.entries(over)) if (value === undefined) delete all[name]
      return all
    }
    const signed = (over: Record<string, unknown>, header: Record<string, unknown> = { typ: 'logout+jwt' }, key?: (op: HostileOP) => Promise<OpKey>): Make =>
      async (op, named, jti) => op.sign(claims(op, named, jti, over), { header, ...(key && { key: await key(op) }) })

    test.each<[string, Make, RegExp]>([
      ['signed by a key the OP does not publish (same kid)', signed({}, { typ: 'logout+jwt' }, (op) => op.newKey('RS256', 'key-1')), /signature that does not verify/],
      ['naming a kid the OP does not publish', signed({}, { typ: 'logout+jwt', kid: 'not-published' }), /names no key of the OP's JWKS/],
      ['unsigned (alg none)', signed({}, { typ: 'logout+jwt', alg: 'none' }), /not a signed JWT|algorithm/],
      ['HMAC with the client secret (HS256)', async (op, named, jti) =>
        new SignJWT(claims(op, named, jti)).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new TextEncoder().encode(HOSTILE_CLIENT_SECRET)),
        /not signed with an algorithm the OP uses for ID tokens/],
      ['typ JWT (Glewlwyd 2.7.5 sends this)', signed({}, { typ: 'JWT' }), /"typ" header other than logout\+jwt/],
      ['typ of an ID token-like JWT (at+jwt)', signed({}, { typ: 'at+jwt' }), /"typ" header other than logout\+jwt/],
      ['another issuer', signed({ iss: 'https://op.evil.example' }), /wrong "iss" claim \(it must be http/],
      ['no iss', signed({ iss: undefined }), /wrong "iss" claim/],
      ['another audience', signed({ aud: 'another-client' }), /wrong "aud" claim \(it must include the client ID hostile-client\)/],
      ['no aud', signed({ aud: undefined }), /wrong "aud" claim/],
      ['iat in the future beyond clockTolerance', signed({ iat: now() + 120, exp: now() + 240 }), /wrong "iat" claim/],
      ['iat older than the maximum age, exp still ahead', signed({ iat: now() - 700, exp: now() + 120 }), /has expired/],
      ['no iat', signed({ iat: undefined }), /wrong "iat" claim/],
      ['exp in the past beyond clockTolerance', signed({ iat: now() - 200, exp: now() - 61 }), /has expired/],
      ['no exp (Glewlwyd 2.7.5 sends none)', signed({ exp: undefined }), /wrong "exp" claim/],
      ['no jti', signed({ jti: undefined }), /wrong "jti" claim/],
      ['a jti that is not a string', signed({ jti: 42 }), /no "jti" string/],
      ['no events', signed({ events: undefined }), /wrong "events" claim/],
      ['events as an array', signed({ events: [EVENT] }), /no "events" object with the member/],
      ['events without the back-channel logout member', signed({ events: { 'http://schemas.openid.net/event/other': {} } }), /no "events" object with the member/],
      ['the member as true, not an object', signed({ events: { [EVENT]: true } }), /no "events" object with the member/],
      ['the member as an array', signed({ events: { [EVENT]: [] } }), /no "events" object with the member/],
      ['the member as null', signed({ events: { [EVENT]: null } }), /no "events" object with the member/],
      ['neither sid nor sub', signed({ sid: undefined, sub: undefined }), /names neither a "sid" nor a "sub"/],
      ['an empty sid', signed({ sid: '' }), /"sid" that is not a non-empty string/],
      ['a sub that is not a string', signed({ sub: 7 }), /"sub" that is not a non-empty string/],
      ['a nonce (an ID token is not a logout token)', signed({ nonce: 'n-0S6_WzA2Mj' }), /has a "nonce" claim/],
      ['an unknown critical header', signed({}, { typ: 'logout+jwt', crit: ['urn:example:must-understand'], 'urn:example:must-understand': 1 }), /not a signed JWT express-par can read|could not be verified/],
    ])('%s', async (_name, make, why) => {
      const { browser, sid, sub } = await logIn(stack)
      const jti = randomUUID()
      const before = await storeSnapshot(stack)
      await expectRefused(await postToken(stack, await make(stack.op, { sid, sub }, jti)), why)
      expect(await storeSnapshot(stack)).toBe(before)
      expect(await isLoggedIn(stack, browser)).toBe(true)
      // Nothing was recorded: the same jti in a valid token is still accepted.
      await expectAccepted(await postToken(stack, await stack.op.sign({ ...logoutClaims(stack.op, { sid, sub }), jti }, { header: { typ: 'logout+jwt' } })))
      expect(await isLoggedIn(stack, browser)).toBe(false)
    })

    test('the ID token of the login itself is refused (no events, a nonce)', async () => {
      let idToken = ''
      stack.op.bend.idToken = async (c) => (idToken = await c.sign({ ...c.claims, sid: 'id-token-sid' }))
      const browser = stack.browser()
      await stack.expectLoggedIn(await stack.login(browser), browser)
      await expectRefused(await postToken(stack, idToken), /wrong "jti" claim|wrong "events" claim|wrong "exp"/)
      expect(await isLoggedIn(stack, browser)).toBe(true)
    })

    test('a string that is not a JWT, and a JWE-shaped one', async () => {
      await expectRefused(await postToken(stack, 'not-a-jwt'), /not a signed JWT express-par can read/)
      await expectRefused(await postToken(stack, 'eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d'), /not a signed JWT express-par can read/)
    })
  })

  describe('the request itself', () => {
    test.each<[string, () => Promise<Response>]>([
      ['not form-encoded (JSON)', () => post(stack, JSON.stringify({ logout_token: 'x' }), { 'content-type': 'application/json' })],
      ['no content type', () => post(stack, 'logout_token=x', {})],
      ['no logout_token', () => post(stack, new URLSearchParams({ token: 'x' }))],
      ['an empty logout_token', () => post(stack, new URLSearchParams({ logout_token: '' }))],
      ['two logout_tokens', () => post(stack, 'logout_token=a&logout_token=b')],
    ])('%s: 400 ERR_BACKCHANNEL_REQUEST_INVALID', async (_name, send) => {
      await expectRefused(await send(), /back-channel logout request/)
    })

    test('a body over the limit is refused before it is parsed: by Content-Length unread, and while streaming without one', async () => {
      const url = new URL(`${stack.baseURL}/backchannel-logout`)
      // Content-Length says 1 MB; the client sends a few bytes and waits: the answer comes anyway.
      const declared = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(1 << 20) } }, (res) => {
          let body = ''
          res.on('data', (chunk) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode!, body }))
        })
        req.on('error', reject)
        req.write('logout_token=')
      })
      expect(declared.status).toBe(400)
      expect(JSON.parse(declared.body).error_description).toMatch(/larger than 16384 bytes \(Content-Length 1048576\)/)

      // No Content-Length (chunked): reading stops as soon as the body passes the limit.
      const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
          let body = ''
          res.on('data', (chunk) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode!, body }))
        })
        req.on('error', reject)
        req.write('logout_token=')
        for (let i = 0; i < 20; i++) req.write('a'.repeat(1024))
      })
      expect(streamed.status).toBe(400)
      expect(JSON.parse(streamed.body).error_description).toMatch(/body is larger than 16384 bytes\.$/)
    })

    test('GET is not served (the app\'s 404), so no page of the app answers for the route', async () => {
      expect((await fetch(`${stack.baseURL}/backchannel-logout`)).status).toBe(404)
    })
  })

  test('a flood of tokens naming unknown kids causes a bounded number of JWKS fetches (at most 2), each refused', async () => {
    const { browser } = await logIn(stack)
    const before = stack.op.count('/jwks')
    const flood = Array.from({ length: 60 }, () => logoutToken(stack.op, { sub: 'alice' }, { typ: 'logout+jwt', kid: randomUUID() }))
    for (let i = 0; i < flood.length; i += 15) {
      const answers = await Promise.all(flood.slice(i, i + 15).map(async (token) => postToken(stack, await token)))
      for (const answer of answers) await expectRefused(answer, /names no key of the OP's JWKS/)
    }
    expect(stack.op.count('/jwks') - before).toBeLessThanOrEqual(2)
    expect(await isLoggedIn(stack, browser)).toBe(true)
  })
})

describe('an OP that advertises HS256 and none for ID tokens', () => {
  const stack = useHostileStack({ auth: { backchannelLogout: true } })
  beforeEach(() => {
    stack.op.bend.discovery = (valid) => ({ ...valid, id_token_signing_alg_values_supported: ['HS256', 'none', 'RS256'] })
  })

  test('still gets no HMAC or unsigned logout token accepted (only its asymmetric algorithms count)', async () => {
    const { browser, sid, sub } = await logIn(stack)
    const claims = logoutClaims(stack.op, { sid, sub })
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'logout+jwt' }).sign(new TextEncoder().encode(HOSTILE_CLIENT_SECRET))
    await expectRefused(await postToken(stack, hmac), /not signed with an algorithm the OP uses for ID tokens \(RS256\)/)
    await expectRefused(await postToken(stack, await stack.op.sign(claims, { header: { alg: 'none', typ: 'logout+jwt' } })), /not signed with an algorithm the OP uses for ID tokens \(RS256\)/)
    expect(await isLoggedIn(stack, browser)).toBe(true)
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid, sub })))
  })
})

test('an app that parses forms itself (express.urlencoded() before auth()) is served from req.body', async () => {
  const stack = await startHostileStack({ auth: { backchannelLogout: true }, beforeAuth: (app) => app.use(express.urlencoded({ extended: false })) })
  try {
    const { browser, sid } = await logIn(stack)
    await expectAccepted(await postToken(stack, await logoutToken(stack.op, { sid })))
    expect(await isLoggedIn(stack, browser)).toBe(false)
    await expectRefused(await post(stack, 'logout_token=a&logout_token=b'), /exactly one non-empty logout_token; it has 2/)
  } finally {
    await stack.close()
  }
})

test('a token accepted by one instance is refused as a replay by another sharing coordination and the session store', async () => {
  const op = await startHostileOP()
  const store = new MemoryStore()
  const coordination = memoryCoordination()
  const a = await startHostileStack({ op, store, auth: { backchannelLogout: true, coordination } })
  const b = await startHostileStack({ op, store, auth: { backchannelLogout: true, coordination } })
  try {
    const { browser, sid } = await logIn(a)
    const token = await logoutToken(op, { sid })
    await expectAccepted(await postToken(b, token)) // the login made on A is found from B (shared index)
    expect(await isLoggedIn(a, browser)).toBe(false)
    await expectRefused(await postToken(a, token), /accepted before/)
  } finally {
    await a.close()
    await b.close()
    await op.close()
  }
})

describe('failing stores: a 400 JSON, never a 500, and the OP may send the logout again', () => {
  test('the coordination store fails: 400 with a generic description, the session stays', async () => {
    const working = memoryCoordination()
    let failing = false
    const coordination: Coordination = {
      ...working,
      setIfAbsent: (key, value, ttl) => (failing ? Promise.reject(new Error('redis down')) : working.setIfAbsent(key, value, ttl)),
    }
    const stack = await startHostileStack({ auth: { backchannelLogout: true, coordination } })
    try {
      const { browser, sid } = await logIn(stack)
      failing = true
      const token = await logoutToken(stack.op, { sid })
      await expectRefused(await postToken(stack, token), /could not carry out the logout now/)
      expect(await isLoggedIn(stack, browser)).toBe(true)
      failing = false
      await expectAccepted(await postToken(stack, token))
      expect(await isLoggedIn(stack, browser)).toBe(false)
    } finally {
      await stack.close()
    }
  })

  test('the session store fails while ending the session: 400, the jti is released, and the same token works once the store is back', async () => {
    const store = new FailingStore()
    const stack = await startHostileStack({ store, auth: { backchannelLogout: true } })
    try {
      const { browser, sid } = await logIn(stack)
      const token = await logoutToken(stack.op, { sid })
      store.failOn('destroy')
      await expectRefused(await postToken(stack, token), /could not carry out the logout now/)
      expect(await isLoggedIn(stack, browser)).toBe(true)
      await expectAccepted(await postToken(stack, token))
      expect(await isLoggedIn(stack, browser)).toBe(false)
    } finally {
      await stack.close()
    }
  })

  test('the login index could not be written at the callback: the login is refused (ERR_COORDINATION_FAILED), nothing stored', async () => {
    const working = memoryCoordination()
    const coordination: Coordination = { ...working, addToSet: () => Promise.reject(new Error('redis down')) }
    const stack = await startHostileStack({ auth: { backchannelLogout: true, coordination } })
    try {
      const browser = stack.browser()
      await stack.expectRejected(await stack.login(browser), browser, 500, 'ERR_COORDINATION_FAILED')
    } finally {
      await stack.close()
    }
  })
})

test('without backchannelLogout the route is not served and logins write no index', async () => {
  const working = memoryCoordination()
  const sets: string[] = []
  const coordination: Coordination = { ...working, addToSet: (key, member, ttl) => (sets.push(key), working.addToSet(key, member, ttl)) }
  const stack = await startHostileStack({ auth: { coordination } })
  try {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(sets).toEqual([])
    expect((await post(stack, 'logout_token=x')).status).toBe(404)
  } finally {
    await stack.close()
  }
})
