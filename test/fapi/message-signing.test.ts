/**
 * The OpenID conformance suite's FAPI 2.0 Message Signing client test plan
 * (fapi2-message-signing-final-client-test-plan), its JARM modules reproduced with
 * `profile: 'fapi2-message-signing'` (JAR + JARM) for the variants private_key_jwt + DPoP and mTLS +
 * mTLS, on the hostile OP over HTTPS; plus a JARM response whose state no login has, a replayed one,
 * and an error inside the JWT. Each negative asserts the error code, that nobody is logged in
 * anywhere in the store, and that the code never reached the token endpoint. The real OP's
 * message-signing login is in fapi-op.test.ts.
 */

import { X509Certificate, generateKeyPairSync } from 'node:crypto'
import { decodeJwt } from 'jose'
import type { AuthOptions } from 'express-par'
import type { JarmContext } from '../support/hostile-op.js'
import { HOSTILE_CLIENT_ID } from '../support/hostile-op.js'
import { PATHS, startHostileStack, useHostileStack, type HostileStack, type HostileStackOptions } from '../support/hostile-stack.js'
import { trustedPki } from '../support/pki.js'

const pki = trustedPki()
const clientKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const clientCert = new X509Certificate(pki.client.cert).fingerprint256

const VARIANTS: Array<[string, Partial<AuthOptions>, (request: HostileStack['op']['requests'][number]) => void]> = [
  [
    'private_key_jwt + DPoP',
    { clientAssertionSigningKey: clientKey, clientAssertionSigningAlg: 'PS256', dpop: true },
    (request) => expect(request.headers.dpop).toEqual(expect.any(String)),
  ],
  [
    'mTLS + mTLS',
    { clientAuthMethod: 'self_signed_tls_client_auth', mtls: { ...pki.client, ca: pki.ca } },
    (request) => expect(request.clientCert).toBe(clientCert),
  ],
]

type Claims = Record<string, unknown>
const now = () => Math.floor(Date.now() / 1000)
const withClaims = (change: (claims: Claims) => Claims) => (c: JarmContext) => c.sign(change({ ...c.claims }))
const without = (name: string) => withClaims(({ [name]: _, ...claims }) => claims)

/** A valid signature made invalid: one character of it changed (InvalidateJarmSignature). */
async function invalidSignature(c: JarmContext): Promise<string> {
  const [header, payload, signature] = (await c.sign(c.claims)).split('.') as [string, string, string]
  const at = Math.floor(signature.length / 2)
  return `${header}.${payload}.${signature.slice(0, at)}${signature[at] === 'A' ? 'B' : 'A'}${signature.slice(at + 1)}`
}

describe.each(VARIANTS)('%s', (_name, variantAuth, expectConstrained) => {
  const options: HostileStackOptions = {
    tls: pki.server,
    opOptions: { tls: pki.server, signingAlg: 'PS256' },
    auth: {
      profile: 'fapi2-message-signing',
      clientSecret: undefined,
      allowInsecureRequests: undefined,
      requestObjectSigningKey: clientKey,
      requestObjectSigningAlg: 'PS256',
      responseMode: 'jwt',
      ...variantAuth,
    },
  }
  const stack = useHostileStack(options)

  async function expectRefused(code: string, status = 400, app: HostileStack = stack): Promise<void> {
    const browser = app.browser()
    await app.expectRejected(await app.login(browser), browser, status, code)
    expect(stack.op.count(PATHS.token)).toBe(0)
  }

  test('happy path (FAPI2SPFinalClientTestHappyPath) with JAR and JARM: a signed request object, only response=<JWT> back, sender-constrained PAR and token requests', async () => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    const par = stack.op.requests.find((r) => r.path === PATHS.par)!
    expect([...par.body.keys()].filter((k) => !k.startsWith('client_assertion')).sort()).toEqual(['client_id', 'request'])
    const requestObject = decodeJwt(par.body.get('request')!)
    expect(requestObject).toMatchObject({ iss: HOSTILE_CLIENT_ID, aud: stack.op.issuer, response_mode: 'jwt', response_type: 'code' })
    expect(requestObject.nbf).toEqual(expect.any(Number))
    expect(requestObject.exp! - requestObject.nbf!).toBeGreaterThan(0)
    expect(requestObject.exp! - requestObject.nbf!).toBeLessThanOrEqual(60 * 60) // FAPI 2.0 Message Signing §5.3.1
    expect([...new URL(callback).searchParams.keys()]).toEqual(['response'])
    await stack.expectLoggedIn(await browser.request(callback), browser)
    for (const request of stack.op.requests.filter((r) => r.path === PATHS.par || r.path === PATHS.token)) expectConstrained(request)
  })

  test.each<[string, (c: JarmContext) => Promise<string>, string]>([
    ['JARM without iss (FAPI2SPFinalClientTestEnsureJarmWithoutIssFails)', without('iss'), 'ERR_ISSUER_MISMATCH'],
    ['JARM with an invalid iss (FAPI2SPFinalClientTestEnsureJarmWithInvalidIssFails)', withClaims((c) => ({ ...c, iss: 'https://attacker.example' })), 'ERR_ISSUER_MISMATCH'],
    ['JARM without aud (FAPI2SPFinalClientTestEnsureJarmWithoutAudFails)', without('aud'), 'ERR_JARM_INVALID'],
    ['JARM with an invalid aud (FAPI2SPFinalClientTestEnsureJarmWithInvalidAudFails)', withClaims((c) => ({ ...c, aud: 'another-client' })), 'ERR_JARM_INVALID'],
    ['JARM without exp (FAPI2SPFinalClientTestEnsureJarmWithoutExpFails)', without('exp'), 'ERR_JARM_INVALID'],
    ['JARM with an expired exp (FAPI2SPFinalClientTestEnsureJarmWithExpiredExpFails)', withClaims((c) => ({ ...c, exp: now() - 5 * 60 })), 'ERR_JARM_INVALID'],
    ['JARM with an invalid signature (FAPI2SPFinalClientTestEnsureJarmWithInvalidSigFails)', invalidSignature, 'ERR_JARM_INVALID'],
    ['JARM signed with alg none (FAPI2SPFinalClientTestEnsureJarmSignatureAlgIsNotNone)', (c) => c.sign(c.claims, { header: { alg: 'none' } }), 'ERR_JARM_INVALID'],
  ])('%s', async (_name, jarm, code) => {
    stack.op.bend.jarm = jarm
    await expectRefused(code)
    // Refused by the JARM checks themselves (jarm.ts), not by a later one.
    expect(stack.errors.at(-1)!.message).toMatch(/^The callback's JARM response /)
  })

  test("a validly signed JARM response whose state no pending login has: ERR_LOGIN_NOT_PENDING", async () => {
    stack.op.bend.jarm = withClaims((c) => ({ ...c, state: 'a-state-no-login-has' }))
    await expectRefused('ERR_LOGIN_NOT_PENDING')
  })

  test('a replayed JARM response: the first logs in, the replay is ERR_LOGIN_NOT_PENDING, the code is redeemed once', async () => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    await stack.expectLoggedIn(await browser.request(callback), browser)
    const replay = await browser.request(callback)
    expect({ status: replay.status, code: JSON.parse(replay.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_NOT_PENDING' })
    // Replayed in another browser (a leaked URL): no pending login there either, nobody logged in.
    const attacker = stack.browser()
    const stolen = await attacker.request(callback)
    expect({ status: stolen.status, code: JSON.parse(stolen.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_NOT_PENDING' })
    expect(JSON.parse((await attacker.request(`${stack.baseURL}/`)).body)).toMatchObject({ authenticated: false })
    expect(stack.op.count(PATHS.token)).toBe(1)
  })

  test('a JARM response failing a check spends its pending login: the genuine one afterwards is refused too', async () => {
    const browser = stack.browser()
    const genuine = await stack.authorize(browser)
    const forged = new URL(genuine)
    forged.searchParams.set('response', await invalidSignature({ claims: decodeJwt(forged.searchParams.get('response')!), sign: stack.op.sign, login: stack.op.logins.at(-1)! }))
    await stack.expectRejected(await browser.request(forged.href), browser, 400, 'ERR_JARM_INVALID')
    await stack.expectRejected(await browser.request(genuine), browser, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(stack.op.count(PATHS.token)).toBe(0)
  })

  test('an error inside the JWT (access_denied) is ERR_LOGIN_REFUSED, with the OP\'s error on it', async () => {
    stack.op.bend.jarm = withClaims(({ code: _, ...c }) => ({ ...c, error: 'access_denied' }))
    await expectRefused('ERR_LOGIN_REFUSED')
    expect(stack.errors.at(-1)).toMatchObject({ error: 'access_denied' })
  })

  test('a JARM response signed with RS256, advertised by the OP and valid, but not a FAPI 2.0 algorithm (profile rule "algorithms")', async () => {
    const rsa = await stack.op.newKey('RS256', 'rs-1')
    stack.op.published = [stack.op.signingKey, rsa]
    stack.op.bend.jarm = (c) => c.sign(c.claims, { key: rsa })
    await expectRefused('ERR_JARM_INVALID')
    expect(stack.errors.at(-1)!.message).toContain('(PS256, ES256; never none or HMAC)')
  })

  test('an OP that signs authorization responses only with RS256 is refused at discovery, before anything is pushed', async () => {
    stack.op.bend.discovery = (m) => ({ ...m, authorization_signing_alg_values_supported: ['RS256'] })
    const app = await startHostileStack({ ...options, op: stack.op })
    try {
      const page = await app.startLogin(app.browser())
      expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' })
      expect(app.errors.at(-1)!.message).toMatch(/signs authorization responses only with RS256 .* express-par verifies only PS256, ES256, EdDSA under `profile: 'fapi2-message-signing'`/)
      expect(stack.op.count(PATHS.par)).toBe(0)
    } finally {
      await app.close()
    }
  })
})
