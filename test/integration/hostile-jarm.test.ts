/**
 * JARM responses a real OP would not send, on the hostile OP (`responseMode: 'jwt'`, no profile):
 * each refused one answers 4xx (or the OP failure's 5xx), logs nobody in, never reaches the token
 * endpoint, and spends its pending login. The FAPI 2.0 Message Signing conformance modules (iss,
 * aud, exp, signature, alg none; unknown state, replay, an error inside) are in
 * test/fapi/message-signing.test.ts; the real OP's JARM in jarm.test.ts.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { SignJWT, decodeJwt } from 'jose'
import type { ExpressParEvent } from '../../lib/events.js'
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, type JarmContext } from '../support/hostile-op.js'
import { PATHS, startHostileStack, useHostileStack } from '../support/hostile-stack.js'
import type { TestBrowser } from '../support/browser.js'

const stack = useHostileStack({ auth: { responseMode: 'jwt' } })

type Claims = Record<string, unknown>
const now = () => Math.floor(Date.now() / 1000)
/** A JARM response with its claims changed by `change`, signed with the OP's key. */
const withClaims = (change: (claims: Claims) => Claims) => (c: JarmContext) => c.sign(change({ ...c.claims }))
const without = (name: string) => withClaims(({ [name]: _, ...claims }) => claims)

/** The callback the OP sent (a JARM response), changed by `edit`. */
async function callback(browser: TestBrowser, edit: (params: URLSearchParams) => void = () => {}): Promise<string> {
  const url = new URL(await stack.authorize(browser))
  edit(url.searchParams)
  return url.href
}

async function expectRefused(status: number, code: string, edit?: (params: URLSearchParams) => void): Promise<void> {
  const browser = stack.browser()
  await stack.expectRejected(await browser.request(await callback(browser, edit)), browser, status, code)
  expect(stack.op.count(PATHS.token)).toBe(0)
}

describe('accepted JARM responses', () => {
  test('the happy path: the callback carries only response=<JWT>, and one token request follows', async () => {
    const browser = stack.browser()
    const url = await callback(browser)
    expect([...new URL(url).searchParams.keys()]).toEqual(['response'])
    expect(stack.op.logins.at(-1)!.params.get('response_mode')).toBe('jwt')
    await stack.expectLoggedIn(await browser.request(url), browser)
    expect(stack.op.count(PATHS.token)).toBe(1)
  })

  test.each<[string, (c: JarmContext) => Promise<string>]>([
    ['aud as an array that names the client', withClaims((c) => ({ ...c, aud: [HOSTILE_CLIENT_ID, 'another-audience'] }))],
    ['exp 30 s past, within clockTolerance (60 s)', withClaims((c) => ({ ...c, exp: now() - 30 }))],
    ['typ: JWT', (c) => c.sign(c.claims, { header: { typ: 'JWT' } })],
    ['unknown extra claims', withClaims((c) => ({ ...c, session_state: 'abc', foo: 1 }))],
  ])('%s', async (_name, jarm) => {
    stack.op.bend.jarm = jarm
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })

  test("a key the OP rotated in: one JWKS refetch serves the JARM response and the ID token (the one key policy of jwks.ts)", async () => {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser) // the JWKS is fetched and kept
    const rotated = await stack.op.newKey('RS256', 'key-2')
    stack.op.published = [stack.op.signingKey, rotated]
    stack.op.signingKey = rotated
    const fetched = stack.op.count(PATHS.jwks)
    const next = stack.browser()
    await stack.expectLoggedIn(await stack.login(next), next)
    expect(stack.op.count(PATHS.jwks)).toBe(fetched + 1)
  })
})

describe('refused JARM responses (the token endpoint is never called)', () => {
  test.each<[string, (c: JarmContext) => Promise<string>, number, string]>([
    ['aud is an array without the client', withClaims((c) => ({ ...c, aud: ['another-client'] })), 400, 'ERR_JARM_INVALID'],
    ['exp past clockTolerance', withClaims((c) => ({ ...c, exp: now() - 120 })), 400, 'ERR_JARM_INVALID'],
    ['exp that is not a number', withClaims((c) => ({ ...c, exp: String(now() + 60) })), 400, 'ERR_JARM_INVALID'],
    ['nbf in the future, beyond clockTolerance', withClaims((c) => ({ ...c, nbf: now() + 600 })), 400, 'ERR_JARM_INVALID'],
    ['HS256 with the client secret as the key (never HMAC)', (c) => new SignJWT(c.claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(HOSTILE_CLIENT_SECRET)), 400, 'ERR_JARM_INVALID'],
    ['a typ of another kind of token (logout+jwt)', (c) => c.sign(c.claims, { header: { typ: 'logout+jwt' } }), 400, 'ERR_JARM_INVALID'],
    ['a crit header express-par does not understand', (c) => c.sign(c.claims, { header: { crit: ['x-unknown'], 'x-unknown': 1 } }), 400, 'ERR_JARM_INVALID'],
    ['no code inside', without('code'), 400, 'ERR_CALLBACK_INVALID'],
    ['error=access_denied inside', withClaims(({ code: _, ...c }) => ({ ...c, error: 'access_denied' })), 400, 'ERR_LOGIN_REFUSED'],
    ['error=login_required inside, on a login that was not silent', withClaims(({ code: _, ...c }) => ({ ...c, error: 'login_required' })), 400, 'ERR_LOGIN_REFUSED'],
    ['error=server_error inside: the OP failed', withClaims(({ code: _, ...c }) => ({ ...c, error: 'server_error' })), 502, 'ERR_OP_SERVER_ERROR'],
    ['error=temporarily_unavailable inside', withClaims(({ code: _, ...c }) => ({ ...c, error: 'temporarily_unavailable' })), 502, 'ERR_OP_SERVER_ERROR'],
  ])('%s', async (_name, jarm, status, code) => {
    stack.op.bend.jarm = jarm
    await expectRefused(status, code)
  })

  test("no iss inside, from an OP that does not advertise authorization_response_iss_parameter_supported: JARM requires it anyway (ERR_ISSUER_MISMATCH)", async () => {
    stack.op.bend.discovery = ({ authorization_response_iss_parameter_supported: _, ...m }) => m
    stack.op.bend.jarm = without('iss')
    const app = await startHostileStack({ op: stack.op, auth: { responseMode: 'jwt' } })
    try {
      const browser = app.browser()
      await app.expectRejected(await app.login(browser), browser, 400, 'ERR_ISSUER_MISMATCH')
      expect(app.errors.at(-1)!.message).toMatch(/^The callback's JARM response has no iss, or names another issuer than https?:\/\/127\.0\.0\.1:\d+ \(JARM §4\.4, RFC 9207\)/)
      expect(stack.op.count(PATHS.token)).toBe(0)
    } finally {
      await app.close()
    }
  })

  test('signed with a key the OP does not publish (unknown kid): refused after the one refetch the policy allows', async () => {
    const stranger = await stack.op.newKey('RS256', 'not-published')
    stack.op.bend.jarm = (c) => c.sign(c.claims, { key: stranger })
    await expectRefused(400, 'ERR_JARM_INVALID')
    expect(stack.errors.at(-1)!.message).toContain("names no key of the OP's JWKS")
  })

  test('signed with a published key of an algorithm the OP does not advertise for authorization responses', async () => {
    const ec = await stack.op.newKey('ES256', 'ec-1')
    stack.op.published = [stack.op.signingKey, ec]
    stack.op.bend.discovery = (m) => ({ ...m, authorization_signing_alg_values_supported: ['RS256'] })
    stack.op.bend.jarm = (c) => c.sign(c.claims, { key: ec })
    const app = await startHostileStack({ op: stack.op, auth: { responseMode: 'jwt' } })
    try {
      const browser = app.browser()
      await app.expectRejected(await app.login(browser), browser, 400, 'ERR_JARM_INVALID')
      expect(app.errors.at(-1)!.message).toMatch(/is not signed with an algorithm the OP advertises for authorization responses that express-par accepts \(RS256; never none or HMAC\)/)
      expect(stack.op.count(PATHS.token)).toBe(0)
    } finally {
      await app.close()
    }
  })

  test("the error_description inside the JWT stays on the error, out of the message", async () => {
    const html = '<script>alert(1)</script>'
    stack.op.bend.jarm = withClaims(({ code: _, ...c }) => ({ ...c, error: 'access_denied', error_description: html }))
    await expectRefused(400, 'ERR_LOGIN_REFUSED')
    const err = stack.errors.at(-1)!
    expect(err).toMatchObject({ error: 'access_denied', errorDescription: html })
    expect(err.message).not.toContain('<')
  })

  test.each<[string, (p: URLSearchParams) => void]>([
    ['a code next to the JARM response', (p) => p.set('code', 'unsigned-code')],
    ['a state next to the JARM response', (p) => p.set('state', 'unsigned-state')],
    ['an error next to the JARM response', (p) => p.set('error', 'access_denied')],
    ['an iss next to the JARM response', (p) => p.set('iss', 'https://attacker.example')],
  ])('%s: only what the OP signed counts (ERR_CALLBACK_INVALID), and the login is spent', async (_name, edit) => {
    const browser = stack.browser()
    const genuine = await callback(browser)
    const tampered = new URL(genuine)
    edit(tampered.searchParams)
    await stack.expectRejected(await browser.request(tampered.href), browser, 400, 'ERR_CALLBACK_INVALID')
    await stack.expectRejected(await browser.request(genuine), browser, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test("a plain error= callback while JARM was asked for is refused like a plain code= one: nobody signed it", async () => {
    const browser = stack.browser()
    const { state } = decodeJwt(new URL(await callback(browser)).searchParams.get('response')!) as { state: string }
    const plain = new URL(`${stack.baseURL}/callback`)
    plain.search = new URLSearchParams({ error: 'access_denied', state, iss: stack.op.issuer }).toString()
    await stack.expectRejected(await browser.request(plain.href), browser, 400, 'ERR_CALLBACK_INVALID')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test.each<[string, (p: URLSearchParams) => void]>([
    ['response given twice', (p) => p.append('response', p.get('response')!)],
    ['a response that is not a JWT', (p) => p.set('response', 'a.b.c')],
    ['an empty response', (p) => p.set('response', '')],
    ['an encrypted response (JWE)', (p) => p.set('response', 'eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMjU2R0NNIn0.a.b.c.d')],
  ])('%s: ERR_CALLBACK_INVALID, and no pending login is touched (none can be named)', async (_name, edit) => {
    const browser = stack.browser()
    const genuine = await callback(browser)
    const tampered = new URL(genuine)
    edit(tampered.searchParams)
    await stack.expectRejected(await browser.request(tampered.href), browser, 400, 'ERR_CALLBACK_INVALID')
    expect(stack.op.count(PATHS.token)).toBe(0)
    await stack.expectLoggedIn(await browser.request(genuine), browser)
  })

  test('no state inside the JWT: ERR_CALLBACK_INVALID', async () => {
    stack.op.bend.jarm = without('state')
    await expectRefused(400, 'ERR_CALLBACK_INVALID')
  })
})

describe("the OP's keys cannot be fetched while a JARM response waits (a fresh app: no keys fetched yet)", () => {
  test.each<[string, () => { status?: number; body?: string; hang?: boolean }, number, string, RegExp]>([
    ['a JWKS endpoint that fails: the OP\'s failure (502), naming the JARM response', () => ({ status: 500, body: 'down' }), 502, 'ERR_ID_TOKEN_INVALID', /^The OP's signing keys \(jwks_uri\) could not be fetched, so the JARM response cannot be verified: the jwks_uri answered HTTP 500/],
    ['a JWKS endpoint that hangs', () => ({ hang: true }), 504, 'ERR_OP_TIMEOUT', /did not answer within httpTimeout/],
  ])('%s', async (_name, jwks, status, code, message) => {
    stack.op.bend.jwks = jwks
    const app = await startHostileStack({ op: stack.op, auth: { responseMode: 'jwt' } })
    try {
      const browser = app.browser()
      await app.expectRejected(await app.login(browser), browser, status, code)
      expect(app.errors.at(-1)!.message).toMatch(message)
      expect(stack.op.count(PATHS.token)).toBe(0)
    } finally {
      await app.close()
    }
  })
})

describe('an OP that cannot do JARM is refused at the first login (ERR_CONFIG_INVALID), nothing pushed', () => {
  test.each<[string, (m: Record<string, unknown>) => Record<string, unknown>, RegExp]>([
    ['no response_modes_supported', ({ response_modes_supported: _, ...m }) => m, /its response_modes_supported is \(absent\), without "jwt" \(absent means query and fragment only, OpenID Connect Discovery §3\)/],
    ['response_modes_supported without jwt', (m) => ({ ...m, response_modes_supported: ['query', 'fragment', 'form_post'] }), /its response_modes_supported is query, fragment, form_post, without "jwt"\. Enable JARM at the OP/],
    ['authorization responses signed only with HMAC', (m) => ({ ...m, authorization_signing_alg_values_supported: ['HS256'] }), /signs authorization responses only with HS256 \(authorization_signing_alg_values_supported\), and express-par verifies only asymmetric signatures/],
  ])('%s', async (_name, bend, message) => {
    stack.op.bend.discovery = bend
    const app = await startHostileStack({ op: stack.op, auth: { responseMode: 'jwt' } })
    try {
      const page = await app.startLogin(app.browser())
      expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' })
      expect(app.errors.at(-1)!.message).toMatch(message)
      expect(stack.op.count(PATHS.par)).toBe(0)
    } finally {
      await app.close()
    }
  })
})

test('events: a refused JARM response is a callback failure with its code; an error inside it carries the OP\'s error', async () => {
  const events: ExpressParEvent[] = []
  const listener = (event: unknown) => events.push(event as ExpressParEvent)
  subscribe('express-par:callback', listener)
  try {
    stack.op.bend.jarm = withClaims((c) => ({ ...c, aud: 'another-client' }))
    await stack.login(stack.browser())
    stack.op.bend.jarm = withClaims(({ code: _, ...c }) => ({ ...c, error: 'access_denied' }))
    await stack.login(stack.browser())
  } finally {
    unsubscribe('express-par:callback', listener)
  }
  expect(events).toEqual([
    expect.objectContaining({ outcome: 'failure', code: 'ERR_JARM_INVALID' }),
    expect.objectContaining({ outcome: 'failure', code: 'ERR_LOGIN_REFUSED', error: 'access_denied' }),
  ])
  expect(JSON.stringify(events)).not.toMatch(/eyJ/) // no JWT in an event
})
