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

  test('a failed discovery is not cached: the app recovers as soon as the OP does', async () => {
    op.bend.discovery = () => ({ status: 503, body: '' })
    await expectLoginFails(502, 'ERR_DISCOVERY_FAILED')
    op.bend = {}
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(op.count(PATHS.discovery)).toBe(2)
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
