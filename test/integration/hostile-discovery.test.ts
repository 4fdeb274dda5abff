/**
 * Discovery that fails, and metadata that must not be trusted to weaken the login
 * (OIDC Discovery §4.3; conformance: rp-discovery-issuer-not-matching-config /
 * FAPI2SPFinalClientTestDiscoveryIssuerMismatch, OIDCCClientTestDiscoveryJwksUriKeys).
 * Each test gets its own app: the discovery document is cached per auth() instance once it succeeds.
 */

import type { Answer } from '../support/hostile-op.js'
import { startHostileOP, type HostileOP } from '../support/hostile-op.js'
import { PATHS, startHostileStack, type HostileStack } from '../support/hostile-stack.js'

const HTTP_TIMEOUT = 700
let op: HostileOP
let stack: HostileStack

beforeAll(async () => {
  op = await startHostileOP()
})
afterAll(async () => {
  await op.close()
})
beforeEach(async () => {
  await op.reset()
  stack = await startHostileStack({ op, auth: { httpTimeout: HTTP_TIMEOUT } })
})
afterEach(async () => {
  await stack.close()
})

type Metadata = Record<string, unknown>

async function expectLoginFails(status: number, code: string): Promise<void> {
  const page = await stack.startLogin(stack.browser())
  expect({ status: page.status, code: JSON.parse(page.body).code, location: page.headers.get('location') }).toEqual({ status, code, location: null })
  expect(await stack.sessions()).toEqual([])
  expect(op.count(PATHS.par)).toBe(0)
}

describe('discovery failures', () => {
  const cases: Array<[string, (valid: Metadata) => Answer | Metadata, number, string]> = [
    ['404', () => ({ status: 404, body: { error: 'not_found' } }), 502, 'ERR_DISCOVERY_FAILED'],
    ['500 with an HTML page', () => ({ status: 500, body: '<html>down</html>' }), 502, 'ERR_DISCOVERY_FAILED'],
    ['200 with a body that is not JSON', () => ({ status: 200, body: 'issuer=x' }), 502, 'ERR_DISCOVERY_FAILED'],
    ['200 with a JSON array', () => ({ status: 200, body: [] }), 502, 'ERR_DISCOVERY_FAILED'],
    ['a redirect elsewhere', () => ({ status: 302, headers: { location: 'https://attacker.example/.well-known/openid-configuration' }, body: '' }), 502, 'ERR_DISCOVERY_FAILED'],
    ['another issuer (rp-discovery-issuer-not-matching-config; FAPI2SPFinalClientTestDiscoveryIssuerMismatch)', (m) => ({ ...m, issuer: 'https://attacker.example' }), 502, 'ERR_DISCOVERY_FAILED'],
    ['no issuer', ({ issuer: _, ...m }) => m, 502, 'ERR_DISCOVERY_FAILED'],
    ['no jwks_uri (OIDC Discovery §3: REQUIRED; no ID token could be verified)', ({ jwks_uri: _, ...m }) => m, 502, 'ERR_DISCOVERY_FAILED'],
    ['no pushed_authorization_request_endpoint (RFC 9126 §5)', ({ pushed_authorization_request_endpoint: _, ...m }) => m, 502, 'ERR_PAR_UNSUPPORTED'],
    ['a connection dropped', () => ({ reset: true }), 502, 'ERR_DISCOVERY_FAILED'],
    ['no answer within httpTimeout', () => ({ hang: true }), 504, 'ERR_OP_TIMEOUT'],
  ]
  test.each(cases)('%s', async (_name, bend, status, code) => {
    op.bend.discovery = bend
    await expectLoginFails(status, code)
  })

  test('an OP that is down (connection refused)', async () => {
    const gone = await startHostileOP()
    await gone.close()
    const app = await startHostileStack({ op: gone, auth: { httpTimeout: HTTP_TIMEOUT } })
    try {
      const page = await app.startLogin(app.browser())
      expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_DISCOVERY_FAILED' })
    } finally {
      await app.close()
    }
  })

  test('another issuer: the message names both URLs and the likely fix', async () => {
    op.bend.discovery = (m) => ({ ...m, issuer: 'https://attacker.example/<b>' })
    await expectLoginFails(502, 'ERR_DISCOVERY_FAILED')
    const { message } = stack.errors.at(-1)!
    expect(message).toContain('names its issuer https://attacker.example/%3Cb%3E')
    expect(message).toContain(`but issuerBaseURL is ${op.issuer}/`)
    expect(message).not.toMatch(/[<>]/)
  })

  test('localhost where the OP says 127.0.0.1: the message says they are different issuers', async () => {
    const app = await startHostileStack({ op, auth: { issuerBaseURL: op.issuer.replace('127.0.0.1', 'localhost') } })
    try {
      const page = await app.startLogin(app.browser())
      expect(JSON.parse(page.body)).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', message: expect.stringContaining('localhost, 127.0.0.1 and [::1] are different issuers: use 127.0.0.1') })
    } finally {
      await app.close()
    }
  })

  test('a failed discovery is not cached: the app recovers as soon as the OP does', async () => {
    op.bend.discovery = () => ({ status: 503, body: '' })
    await expectLoginFails(502, 'ERR_DISCOVERY_FAILED')
    op.bend = {}
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(op.count(PATHS.discovery)).toBe(2)
  })

})

describe('discovery during an outage: concurrent logins share one attempt, repeated failures back off (up to 2 s)', () => {
  const realNow = Date.now
  let now = 0
  const setClock = (ms: number) => {
    now = ms
    Date.now = () => now
  }
  afterEach(() => {
    Date.now = realNow
  })
  const loginCode = async () => JSON.parse((await stack.startLogin(stack.browser())).body).code as string

  test('300 logins while the clock stands still: 2 discovery requests (the first retry is immediate), the rest held', async () => {
    setClock(realNow())
    op.bend.discovery = () => ({ status: 503, body: '' })
    for (let i = 0; i < 300; i++) expect(await loginCode()).toBe('ERR_DISCOVERY_FAILED')
    expect(op.count(PATHS.discovery)).toBe(2)
    expect(stack.errors.at(-1)!.message).toMatch(/Not asked again yet: discovery failed 2 times in a row/)
  })

  test('the hold grows with each failure in a row, to 2 s; the OP is asked again once each has passed', async () => {
    const start = realNow()
    setClock(start)
    op.bend.discovery = () => ({ status: 503, body: '' })
    await loginCode()
    expect(op.count(PATHS.discovery)).toBe(1)
    // The hold before the 2nd, 3rd, ... attempt.
    const holds = [0, 250, 500, 1000, 2000, 2000]
    let elapsed = 0
    for (const [i, hold] of holds.entries()) {
      if (hold > 0) {
        setClock(start + elapsed + hold - 1)
        await loginCode()
        expect(op.count(PATHS.discovery)).toBe(i + 1) // still held
      }
      elapsed += hold
      setClock(start + elapsed)
      await loginCode()
      expect(op.count(PATHS.discovery)).toBe(i + 2)
    }
  })

  test('recovers as soon as the hold has passed after the OP is back', async () => {
    setClock(realNow())
    op.bend.discovery = () => ({ status: 503, body: '' })
    for (let i = 0; i < 5; i++) await loginCode()
    op.bend = {}
    setClock(now + 250)
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(op.count(PATHS.discovery)).toBe(3)
  })

  test('concurrent logins share one discovery request', async () => {
    op.bend.discovery = () => ({ status: 503, body: '', delay: 200 })
    const codes = await Promise.all(Array.from({ length: 30 }, loginCode))
    expect(codes).toEqual(Array(30).fill('ERR_DISCOVERY_FAILED'))
    expect(op.count(PATHS.discovery)).toBe(1)
  })

  test('a clock set back does not stretch the hold', async () => {
    setClock(realNow())
    op.bend.discovery = () => ({ status: 503, body: '' })
    for (let i = 0; i < 3; i++) await loginCode()
    expect(op.count(PATHS.discovery)).toBe(2)
    setClock(now - 3600_000)
    await loginCode()
    expect(op.count(PATHS.discovery)).toBe(3)
  })
})

describe('metadata that must not weaken the login', () => {
  async function loginAndGetPushed(): Promise<URLSearchParams> {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    return op.logins.at(-1)!.params
  }

  test('code_challenge_methods_supported: ["plain"] -> still PKCE S256 (RFC 9700 §2.1.1)', async () => {
    op.bend.discovery = (m) => ({ ...m, code_challenge_methods_supported: ['plain'] })
    const pushed = await loginAndGetPushed()
    expect(pushed.get('code_challenge_method')).toBe('S256')
    expect(pushed.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  test('no code_challenge_methods_supported -> still PKCE S256', async () => {
    op.bend.discovery = ({ code_challenge_methods_supported: _, ...m }) => m
    expect((await loginAndGetPushed()).get('code_challenge_method')).toBe('S256')
  })

  test('require_pushed_authorization_requests: false -> still PAR, nothing else in the front channel', async () => {
    op.bend.discovery = (m) => ({ ...m, require_pushed_authorization_requests: false })
    const page = await stack.startLogin(stack.browser())
    expect([...new URL(page.headers.get('location')!).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
  })

  test('token_endpoint_auth_methods_supported: ["none"] -> never a downgrade to an unauthenticated client: the login is refused', async () => {
    op.bend.discovery = (m) => ({ ...m, token_endpoint_auth_methods_supported: ['none'] })
    await expectLoginFails(500, 'ERR_CONFIG_INVALID')
  })

  test('token_endpoint_auth_methods_supported listing none first -> the client still authenticates at PAR and token', async () => {
    op.bend.discovery = (m) => ({ ...m, token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'] })
    await loginAndGetPushed()
    for (const path of [PATHS.par, PATHS.token]) {
      expect(op.requests.find((r) => r.path === path)!.headers.authorization).toMatch(/^Basic /)
    }
  })


  test('authorization_response_iss_parameter_supported: false does not let a wrong iss through (RFC 9207 §2.4)', async () => {
    op.bend.discovery = (m) => ({ ...m, authorization_response_iss_parameter_supported: false })
    op.bend.authorize = (valid) => (valid.set('iss', 'https://attacker.example'), valid)
    const browser = stack.browser()
    await stack.expectRejected(await stack.login(browser), browser, 400, 'ERR_ISSUER_MISMATCH')
    expect(op.count(PATHS.token)).toBe(0)
  })
})
