/**
 * The OpenID conformance suite's FAPI 2.0 Security Profile client test plan
 * (fapi2-security-profile-final-client-test-plan), reproduced for the variants private_key_jwt +
 * DPoP and mTLS + mTLS, with `profile: 'fapi2-security'`. The misbehaviours run on the hostile OP
 * (test/support/hostile-op.ts) over HTTPS; the real OP's happy paths are in fapi-op.test.ts. Each
 * negative case asserts the error code, that nobody is logged in anywhere in the store, and, for
 * the authorization response cases, that the code never reached the token endpoint.
 */

import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import type { AuthOptions } from 'express-par'
import type { Answer, IdTokenContext } from '../support/hostile-op.js'
import { HOSTILE_CLIENT_ID } from '../support/hostile-op.js'
import { PATHS, startHostileStack, useHostileStack, type HostileStack, type HostileStackOptions } from '../support/hostile-stack.js'
import { FAPI2_ID_TOKEN_CLAIM_CASES, type Claims } from '../support/id-token-cases.js'
import { trustedPki } from '../support/pki.js'

const pki = trustedPki()
const clientKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const clientCert = new X509Certificate(pki.client.cert).fingerprint256

interface Variant {
  auth: Partial<AuthOptions>
  /** token_type in inverted case (FAPI2SPFinalClientTestTokenTypeCaseInsenstivity). */
  invertedTokenType: string
  /** What proves the sender constraint on a back-channel request the OP received. */
  expectConstrained(request: HostileStack['op']['requests'][number]): void
}

const VARIANTS: Array<[string, Variant]> = [
  [
    'private_key_jwt + DPoP',
    {
      auth: { clientAssertionSigningKey: clientKey, clientAssertionSigningAlg: 'PS256', dpop: true },
      invertedTokenType: 'dPoP',
      expectConstrained: (request) => {
        expect(request.headers.dpop).toEqual(expect.any(String))
        expect(request.body.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
      },
    },
  ],
  [
    'mTLS + mTLS',
    {
      auth: { clientAuthMethod: 'self_signed_tls_client_auth', mtls: { ...pki.client, ca: pki.ca } },
      invertedTokenType: 'bEARER',
      expectConstrained: (request) => {
        expect(request.clientCert).toBe(clientCert)
        expect(request.headers.authorization).toBeUndefined()
        expect(request.body.get('client_id')).toBe(HOSTILE_CLIENT_ID)
      },
    },
  ],
]

describe.each(VARIANTS)('%s', (_name, variant) => {
  const options: HostileStackOptions = {
    tls: pki.server,
    opOptions: { tls: pki.server, signingAlg: 'PS256' },
    auth: { profile: 'fapi2-security', clientSecret: undefined, allowInsecureRequests: undefined, ...variant.auth },
  }
  const stack = useHostileStack(options)

  /** `check` on a fresh app (its own discovery) against the shared OP. */
  async function freshApp(check: (app: HostileStack) => Promise<void>): Promise<void> {
    const app = await startHostileStack({ ...options, op: stack.op })
    try {
      await check(app)
    } finally {
      await app.close()
    }
  }

  async function expectLogin(app: HostileStack = stack): Promise<void> {
    const browser = app.browser()
    await app.expectLoggedIn(await app.login(browser), browser)
  }

  async function expectRefusedAtCallback(code: string, status = 502, app: HostileStack = stack): Promise<void> {
    const browser = app.browser()
    await app.expectRejected(await app.login(browser), browser, status, code)
  }

  test('happy path (FAPI2SPFinalClientTestHappyPath): PAR and token sender-constrained', async () => {
    await expectLogin()
    const backChannel = stack.op.requests.filter((r) => r.path === PATHS.par || r.path === PATHS.token)
    expect(backChannel.map((r) => r.path)).toEqual([PATHS.par, PATHS.token])
    for (const request of backChannel) variant.expectConstrained(request)
  })

  test('discovery issuer mismatch (FAPI2SPFinalClientTestDiscoveryIssuerMismatch): no request follows discovery', async () => {
    stack.op.bend.discovery = (m) => ({ ...m, issuer: 'https://attacker.example' })
    await freshApp(async (app) => {
      const page = await app.startLogin(app.browser())
      expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_DISCOVERY_FAILED' })
      expect(stack.op.requests.map((r) => r.path)).toEqual([PATHS.discovery])
    })
  })

  describe('refused ID tokens', () => {
    const withClaims = (change: (claims: Claims) => Claims) => (c: IdTokenContext) => c.sign(change({ ...c.claims }))

    test.each(FAPI2_ID_TOKEN_CLAIM_CASES)('%s (%s)', async (_case, _source, change) => {
      stack.op.bend.idToken = withClaims(change)
      await expectRefusedAtCallback('ERR_ID_TOKEN_INVALID')
      expect(stack.op.count(PATHS.token)).toBe(1)
    })

    test('alg none (FAPI2SPFinalClientTestInvalidNullAlg)', async () => {
      stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { alg: 'none' } })
      await expectRefusedAtCallback('ERR_ID_TOKEN_INVALID')
    })

    test('an alternate algorithm the OP does not advertise, with a published key (FAPI2SPFinalClientTestInvalidAlternateAlg)', async () => {
      const ec = await stack.op.newKey('ES256', 'ec-1')
      stack.op.published = [stack.op.signingKey, ec]
      stack.op.bend.discovery = (m) => ({ ...m, id_token_signing_alg_values_supported: ['PS256'] })
      stack.op.bend.idToken = (c) => c.sign(c.claims, { key: ec })
      await freshApp((app) => expectRefusedAtCallback('ERR_ID_TOKEN_INVALID', 502, app))
    })

    test('RS256, advertised by the OP and validly signed, but not a FAPI 2.0 algorithm (profile rule "algorithms")', async () => {
      const rsa = await stack.op.newKey('RS256', 'rs-1')
      stack.op.published = [stack.op.signingKey, rsa]
      stack.op.bend.idToken = (c) => c.sign(c.claims, { key: rsa })
      let message = ''
      await freshApp(async (app) => {
        await expectRefusedAtCallback('ERR_ID_TOKEN_INVALID', 502, app)
        message = app.errors.at(-1)!.message
      })
      expect(message).toMatch(/signed with RS256; `profile: 'fapi2-security'` \(rule "algorithms"\) accepts only PS256, ES256, EdDSA/)
    })

    test('an OP that signs ID tokens only with RS256 is refused at discovery (profile rule "algorithms")', async () => {
      stack.op.bend.discovery = (m) => ({ ...m, id_token_signing_alg_values_supported: ['RS256'] })
      await freshApp(async (app) => {
        const page = await app.startLogin(app.browser())
        expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' })
        expect(app.errors.at(-1)!.message).toMatch(/rule "algorithms": the OP at .* signs ID tokens only with RS256/)
        expect(stack.op.count(PATHS.par)).toBe(0)
      })
    })

    test('aud as an array is accepted (FAPI2SPFinalClientTestValidAudAsArray)', async () => {
      stack.op.bend.idToken = withClaims((c) => ({ ...c, aud: [HOSTILE_CLIENT_ID] }))
      await expectLogin()
    })
  })

  describe('refused authorization responses (the token endpoint is never called)', () => {
    async function expectRefused(edit: (params: URLSearchParams) => void, code: string, app: HostileStack = stack): Promise<void> {
      const browser = app.browser()
      const url = new URL(await app.authorize(browser))
      edit(url.searchParams)
      await app.expectRejected(await browser.request(url.href), browser, 400, code)
      expect(stack.op.count(PATHS.token)).toBe(0)
    }

    test.each<[string, (p: URLSearchParams) => void, string]>([
      ['an invalid iss (FAPI2SPFinalClientTestInvalidAuthorizationResponseIss)', (p) => p.set('iss', 'https://attacker.example'), 'ERR_ISSUER_MISMATCH'],
      ['iss removed (FAPI2SPFinalClientTestRemoveAuthorizationResponseIss)', (p) => p.delete('iss'), 'ERR_ISSUER_MISMATCH'],
      ['an invalid state (FAPI2SPFinalClientTestEnsureAuthorizationResponseWithInvalidStateFails)', (p) => p.set('state', 'forged-state'), 'ERR_LOGIN_NOT_PENDING'],
      ['state removed (FAPI2SPFinalClientTestEnsureAuthorizationResponseWithInvalidMissingStateFails)', (p) => p.delete('state'), 'ERR_CALLBACK_INVALID'],
    ])('%s', async (_name, edit, code) => {
      await expectRefused(edit, code)
    })

    test('iss removed by an OP that does not advertise authorization_response_iss_parameter_supported (profile rule "iss parameter")', async () => {
      stack.op.bend.discovery = ({ authorization_response_iss_parameter_supported: _, ...m }) => m
      stack.op.bend.authorize = (valid) => (valid.delete('iss'), valid)
      await freshApp((app) => expectRefused(() => {}, 'ERR_ISSUER_MISMATCH', app))
    })
  })

  describe('accepted token responses', () => {
    type Body = Record<string, unknown>
    const body = (change: (b: Body) => Body) => (valid: Answer) => ({ ...valid, body: change({ ...(valid.body as Body) }) })

    test('without expires_in (FAPI2SPFinalClientTestTokenEndpointResponseWithoutExpiresIn)', async () => {
      stack.op.bend.token = body(({ expires_in: _, ...b }) => b)
      await expectLogin()
    })

    test(`token_type in inverted case, "${variant.invertedTokenType}" (FAPI2SPFinalClientTestTokenTypeCaseInsenstivity)`, async () => {
      stack.op.bend.token = body((b) => ({ ...b, token_type: variant.invertedTokenType }))
      await expectLogin()
    })
  })

  describe('https only, whatever the metadata says (allowInsecureRequests is off)', () => {
    test.each([['pushed_authorization_request_endpoint'], ['token_endpoint']])('an https issuer whose metadata points %s at http: is refused at discovery', async (endpoint) => {
      stack.op.bend.discovery = (m) => ({ ...m, [endpoint]: String(m[endpoint]).replace('https:', 'http:') })
      await freshApp(async (app) => {
        const page = await app.startLogin(app.browser())
        expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_DISCOVERY_FAILED' })
        expect(app.errors.at(-1)!.message).toContain(`points ${endpoint} at http://127.0.0.1`)
        expect(stack.op.count(PATHS.par) + stack.op.count(PATHS.token)).toBe(0)
      })
    })

    test('openid-client itself runs https-only: an http: resource URL given to req.oidc.fetch() is refused', async () => {
      const browser = stack.browser()
      await stack.expectLoggedIn(await stack.login(browser), browser)
      const page = await browser.request(`${stack.baseURL}/fetch?url=${encodeURIComponent('http://127.0.0.1:9/accounts')}`)
      expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_RESOURCE_UNREACHABLE' })
      expect(stack.errors.at(-1)!.cause).toMatchObject({ code: 'OAUTH_HTTP_REQUEST_FORBIDDEN' })
    })
  })
})
