/**
 * The happy paths against a real FAPI 2.0 OP (oidc-provider in its certification configuration,
 * over HTTPS, see support/fapi-op.ts), with `profile: 'fapi2-security'`, for the conformance
 * suite's variants private_key_jwt + DPoP and mTLS + mTLS (and the other mTLS combinations):
 * login, refresh and req.oidc.fetch() to a resource server that checks the binding
 * (FAPI2SPFinalClientTestHappyPath, ...HappyPathNoDpopNonce, ...HappyPathNoMtlsEndpointAliases,
 * ...RSDpopAuthSchemeCaseInsenstivity).
 */

import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose'
import type { AuthOptions } from 'express-par'
import { trustedPki } from '../support/pki.js'
import { CLIENTS, RESOURCE_SCOPE, startFapiOP, type FapiOP } from './support/fapi-op.js'
import { DEMO_PAYMENT } from '../../example-app/rar-mode.js'
import { startFapiApp, type FapiApp } from './support/fapi-app.js'
import { startResourceServer, type ResourceServer } from './support/resource-server.js'

const pki = trustedPki()
let op: FapiOP
let rs: ResourceServer
const apps: FapiApp[] = []

beforeAll(async () => {
  op = await startFapiOP(pki)
  rs = await startResourceServer(pki, op.issuer, op.jwks)
})
afterAll(async () => {
  for (const app of apps) await app.close()
  await rs?.close()
  await op?.close()
})
beforeEach(() => {
  op.requests.length = 0
  rs.requests.length = 0
  rs.requireNonce = true
  rs.challengeScheme = 'DPoP'
})

const scope = `openid offline_access ${RESOURCE_SCOPE}`
const common = (clientID: string): Partial<AuthOptions> => ({
  issuerBaseURL: op.issuer,
  clientID,
  authorizationParams: { scope, prompt: 'consent' },
})
const pkjwt = (clientID: string): Partial<AuthOptions> => ({ ...common(clientID), clientAssertionSigningKey: op.clientKeyPem, clientAssertionSigningAlg: 'PS256' })

async function app(auth: Partial<AuthOptions>): Promise<FapiApp> {
  const started = await startFapiApp(pki, { auth, resourceURL: rs.url })
  apps.push(started)
  return started
}

async function expectLogin(target: FapiApp) {
  const browser = target.browser()
  const done = await target.login(browser)
  expect({ status: done.status, body: done.body.slice(0, 300) }).toEqual({ status: 302, body: '' })
  expect(target.errors).toEqual([])
  return browser
}

const tokenRequests = () => op.requests.filter((r) => r.path === '/token')
const parRequests = () => op.requests.filter((r) => r.path === '/request')

describe('private_key_jwt + DPoP', () => {
  test.each([
    ['the OP requires DPoP nonces (FAPI2SPFinalClientTestHappyPath)', CLIENTS.dpopNonce],
    ['no DPoP nonce required (FAPI2SPFinalClientTestHappyPathNoDpopNonce)', CLIENTS.dpop],
  ])('a login when %s: the code and the tokens are bound to the login\'s key', async (_name, clientID) => {
    const target = await app({ ...pkjwt(clientID), dpop: true })
    const browser = await expectLogin(target)
    const [login] = target.logins()
    expect(login!.auth.tokenType).toBe('dpop')
    const jkt = await calculateJwkThumbprint(login!.dpop!.publicJwk)
    const proofs = [...parRequests(), ...tokenRequests()].filter((r) => r.status < 300)
    expect(proofs.map((r) => r.path)).toEqual(['/request', '/token'])
    for (const r of proofs) expect(await calculateJwkThumbprint(decodeProtectedHeader(r.dpop!).jwk as JWK)).toBe(jkt)
    // Only the nonce client is ever asked for a nonce, and at most once per endpoint (then it is remembered).
    const challenges = op.requests.filter((r) => r.error === 'use_dpop_nonce')
    if (clientID === CLIENTS.dpop) expect(challenges).toEqual([])
    else expect(challenges.length).toBeGreaterThanOrEqual(1) // asked, and answered with the nonce
    expect(challenges.length).toBeLessThanOrEqual(2)
    expect(await target.get(browser, '/')).toEqual({ status: 200, body: { authenticated: true, tokenType: 'dpop', sub: 'alice' } })
  })

  test('a second login pays no nonce round trip: the nonces are remembered across logins', async () => {
    const target = await app({ ...pkjwt(CLIENTS.dpopNonce), dpop: true })
    await expectLogin(target)
    op.requests.length = 0
    await expectLogin(target)
    expect(op.requests.filter((r) => r.error === 'use_dpop_nonce')).toEqual([])
  })

  test('req.oidc.fetch(): a proof with ath, one retry on the resource server\'s nonce challenge, and again after a rotation', async () => {
    const target = await app({ ...pkjwt(CLIENTS.dpopNonce), dpop: true })
    const browser = await expectLogin(target)
    expect(await target.get(browser, '/accounts')).toEqual({ status: 200, body: { sub: 'alice', scope: RESOURCE_SCOPE, binding: 'dpop' } })
    expect(rs.requests.map((r) => r.outcome)).toEqual(['no nonce', 'ok'])
    rs.requests.length = 0
    expect((await target.get(browser, '/accounts')).status).toBe(200)
    expect(rs.requests.map((r) => r.outcome)).toEqual(['ok']) // the nonce is remembered
    rs.rotateNonce()
    rs.requests.length = 0
    expect((await target.get(browser, '/accounts')).status).toBe(200)
    expect(rs.requests.map((r) => r.outcome)).toEqual(['stale nonce', 'ok'])
    expect(rs.requests.every((r) => r.scheme === 'DPoP')).toBe(true)
  })

  test('a nonce challenge whose scheme is spelt "dPoP" is honoured (FAPI2SPFinalClientTestRSDpopAuthSchemeCaseInsenstivity)', async () => {
    rs.challengeScheme = 'dPoP'
    const target = await app({ ...pkjwt(CLIENTS.dpopNonce), dpop: true })
    const browser = await expectLogin(target)
    expect((await target.get(browser, '/accounts')).status).toBe(200)
    expect(rs.requests.map((r) => r.outcome)).toEqual(['no nonce', 'ok'])
  })

  test('a refresh with the login\'s key gives new DPoP-bound tokens the resource server accepts', async () => {
    const target = await app({ ...pkjwt(CLIENTS.dpopNonce), dpop: true })
    const browser = await expectLogin(target)
    const before = target.logins()[0]!
    op.requests.length = 0
    expect(await target.get(browser, '/refresh')).toEqual({ status: 200, body: { tokenType: 'dpop' } })
    const refresh = tokenRequests().filter((r) => r.status === 200)
    expect(refresh).toHaveLength(1)
    expect(await calculateJwkThumbprint(decodeProtectedHeader(refresh[0]!.dpop!).jwk as JWK)).toBe(await calculateJwkThumbprint(before.dpop!.publicJwk))
    const after = target.logins()[0]!
    expect(after.auth.accessToken).not.toBe(before.auth.accessToken)
    expect((await target.get(browser, '/accounts')).status).toBe(200)
  })

  test.each([['EdDSA'], ['PS256']] as const)('dpop: { alg: %s } against the real OP', async (alg) => {
    const target = await app({ ...pkjwt(CLIENTS.dpop), dpop: { alg } })
    const browser = await expectLogin(target)
    expect(decodeProtectedHeader(tokenRequests().find((r) => r.status === 200)!.dpop!).alg).toBe(alg)
    expect((await target.get(browser, '/accounts')).status).toBe(200)
  })
})

describe("FAPI 2.0 Message Signing (profile 'fapi2-message-signing'): JAR + JARM, with a payment's authorization_details and DPoP", () => {
  test('a login with a signed request object carrying the payment, a signed authorization response, and the granted details readable in the app', async () => {
    const target = await app({
      ...pkjwt(CLIENTS.messageSigning),
      profile: 'fapi2-message-signing',
      dpop: true,
      requestObjectSigningKey: op.clientKeyPem,
      requestObjectSigningAlg: 'PS256',
      responseMode: 'jwt',
      authorizationParams: { scope, prompt: 'consent', authorization_details: [DEMO_PAYMENT] },
    })
    const browser = target.browser()
    const callback = await target.authorize(browser)
    const response = new URL(callback).searchParams
    expect([...response.keys()]).toEqual(['response'])
    expect(decodeProtectedHeader(response.get('response')!)).toMatchObject({ alg: 'PS256', kid: 'fapi-op-ps256' })
    const done = await browser.request(callback)
    expect({ status: done.status, errors: target.errors }).toEqual({ status: 302, errors: [] })
    expect(parRequests().filter((r) => r.status === 201)).toHaveLength(1)
    expect(await target.get(browser, '/details')).toEqual({ status: 200, body: { sub: 'alice', authorizationDetails: [DEMO_PAYMENT] } })
    expect(target.logins()[0]!.auth.tokenType).toBe('dpop')
    // The access token (for the resource server, with the payment) works there like any other.
    expect(await target.get(browser, '/accounts')).toEqual({ status: 200, body: { sub: 'alice', scope: RESOURCE_SCOPE, binding: 'dpop' } })
  })
})

describe('mTLS + mTLS (self_signed_tls_client_auth, certificate-bound tokens)', () => {
  const mtls = () => ({ ...common(CLIENTS.mtls), clientAuthMethod: 'self_signed_tls_client_auth' as const, mtls: { ...pki.client, ca: pki.ca } })

  test('a login through the mtls_endpoint_aliases, the certificate presented at PAR and token (FAPI2SPFinalClientTestHappyPath)', async () => {
    const target = await app(mtls())
    await expectLogin(target)
    const backChannel = [...parRequests(), ...tokenRequests()]
    expect(backChannel.map((r) => [r.listener, r.path, r.status])).toEqual([
      ['alias', '/request', 201],
      ['alias', '/token', 200],
    ])
    for (const r of backChannel) expect(r.clientCert).toBe(new (await import('node:crypto')).X509Certificate(pki.client.cert).fingerprint256)
    expect(target.logins()[0]!.auth.tokenType).toBe('bearer')
  })

  test('an OP without mtls_endpoint_aliases: its own endpoints, with the certificate (FAPI2SPFinalClientTestHappyPathNoMtlsEndpointAliases)', async () => {
    op.advertiseAliases = false
    try {
      const target = await app(mtls())
      await expectLogin(target)
      expect([...parRequests(), ...tokenRequests()].map((r) => [r.listener, r.path, Boolean(r.clientCert)])).toEqual([
        ['main', '/request', true],
        ['main', '/token', true],
      ])
    } finally {
      op.advertiseAliases = true
    }
  })

  test('req.oidc.fetch() presents the certificate the token is bound to; a refresh keeps the binding', async () => {
    const target = await app(mtls())
    const browser = await expectLogin(target)
    expect(await target.get(browser, '/accounts')).toEqual({ status: 200, body: { sub: 'alice', scope: RESOURCE_SCOPE, binding: 'mtls' } })
    expect(await target.get(browser, '/refresh')).toEqual({ status: 200, body: { tokenType: 'bearer' } })
    expect(tokenRequests().at(-1)).toMatchObject({ listener: 'alias', status: 200, clientCert: expect.any(String) })
    expect((await target.get(browser, '/accounts')).status).toBe(200)
    expect(rs.requests.map((r) => [r.binding, r.outcome])).toEqual([
      ['mtls', 'ok'],
      ['mtls', 'ok'],
    ])
  })

  test('a certificate that is not the registered one is refused by the OP at PAR', async () => {
    const target = await app({ ...mtls(), mtls: { ...pki.otherClient, ca: pki.ca } })
    const page = await target.browser().request(`${target.baseURL}/login`)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_PAR_FAILED' })
    expect(target.errors[0]!.error).toBe('invalid_client')
  })
})

describe('the other mTLS combinations', () => {
  test('tls_client_auth with a CA-issued certificate', async () => {
    const target = await app({ ...common(CLIENTS.tlsClientAuth), clientAuthMethod: 'tls_client_auth', mtls: pki.tlsClient })
    const browser = await expectLogin(target)
    expect((await target.get(browser, '/accounts')).body).toMatchObject({ binding: 'mtls' })
  })

  test('private_key_jwt with the certificate only binding the tokens', async () => {
    const target = await app({ ...pkjwt(CLIENTS.pkjwtMtls), mtls: pki.client })
    const browser = await expectLogin(target)
    expect((await target.get(browser, '/accounts')).body).toMatchObject({ binding: 'mtls' })
    expect(tokenRequests().find((r) => r.status === 200)).toMatchObject({ listener: 'alias', clientCert: expect.any(String) })
  })
})
