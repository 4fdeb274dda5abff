/**
 * ID tokens a strict relying party must refuse, and valid variations it must accept. Cases come
 * from the OpenID Foundation conformance suite (OIDC RP tests `rp-*`, FAPI 2.0 client tests
 * `FAPI2SPFinalClientTest*`) and OpenID Connect Core 1.0 §3.1.3.7 (ID token validation).
 */

import { createSecretKey } from 'node:crypto'
import { SignJWT, exportSPKI } from 'jose'
import { HOSTILE_CLIENT_ID, HOSTILE_CLIENT_SECRET, type IdTokenContext } from '../support/hostile-op.js'
import type { AuthOptions } from 'express-par'
import { PATHS, startHostileStack, useHostileStack, type HostileStack } from '../support/hostile-stack.js'
import { editStoredSession, storedAuth, storedSession } from '../support/session-store.js'
import { ID_TOKEN_CLAIM_CASES } from '../support/id-token-cases.js'

const stack = useHostileStack({ auth: { clockTolerance: 60 } })

type Claims = Record<string, unknown>
const withClaims = (change: (claims: Claims) => Claims) => (c: IdTokenContext) => c.sign(change({ ...c.claims }))
const now = () => Math.floor(Date.now() / 1000)

/**
 * Runs `check` on the shared app, or on a fresh one (`fresh`) when the test changes what the app
 * caches per auth() instance: the discovery document and the JWKS.
 */
async function onApp<T>(fresh: boolean | Partial<AuthOptions>, check: (s: HostileStack) => Promise<T>): Promise<T> {
  if (fresh === false) return check(stack)
  const app = await startHostileStack({ op: stack.op, auth: fresh === true ? {} : fresh })
  try {
    return await check(app)
  } finally {
    await app.close()
  }
}

function expectIdTokenRejected(fresh: boolean | Partial<AuthOptions> = false, status = 502, code = 'ERR_ID_TOKEN_INVALID'): Promise<void> {
  return onApp(fresh, async (app) => {
    const browser = app.browser()
    await app.expectRejected(await app.login(browser), browser, status, code)
    expect(app.op.count(PATHS.token)).toBe(1)
  })
}

function expectAccepted(fresh = false): Promise<Claims> {
  return onApp(fresh, async (app) => {
    const browser = app.browser()
    return app.expectLoggedIn(await app.login(browser), browser)
  })
}

describe('refused ID tokens', () => {
  const claimCases = ID_TOKEN_CLAIM_CASES
  test.each(claimCases)('%s (%s)', async (_name, _source, change) => {
    stack.op.bend.idToken = withClaims(change)
    await expectIdTokenRejected()
  })

  test('alg none (rp-id_token-sig-none; FAPI2SPFinalClientTestInvalidNullAlg)', async () => {
    stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { alg: 'none' } })
    await expectIdTokenRejected()
  })

  test('alg none even when the discovery document advertises it (untrusted metadata)', async () => {
    stack.op.bend.discovery = (m) => ({ ...m, id_token_signing_alg_values_supported: ['none', 'RS256'] })
    stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { alg: 'none' } })
    await expectIdTokenRejected(true)
  })

  test('HS256 signed with the client secret, advertised by the OP (rp-id_token-bad-sig-hs256: alg confusion)', async () => {
    stack.op.bend.discovery = (m) => ({ ...m, id_token_signing_alg_values_supported: ['HS256', 'RS256'] })
    stack.op.bend.idToken = ({ claims }) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(new TextEncoder().encode(HOSTILE_CLIENT_SECRET))
    await expectIdTokenRejected(true)
  })

  test("HS256 keyed with the OP's public RSA key (RS256 -> HS256 key confusion)", async () => {
    const pem = await exportSPKI(await publicKeyOf(stack))
    stack.op.bend.idToken = ({ claims }) => new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-1' }).sign(createSecretKey(Buffer.from(pem)))
    await expectIdTokenRejected()
  })

  test('RS256 signature by a key that is not the OP\'s, under its kid (rp-id_token-bad-sig-rs256)', async () => {
    const forger = await stack.op.newKey('RS256', 'key-1')
    stack.op.bend.idToken = (c) => c.sign(c.claims, { key: forger })
    await expectIdTokenRejected()
  })

  test('ES256 signature by a key that is not the OP\'s (rp-id_token-bad-sig-es256)', async () => {
    const real = await stack.op.newKey('ES256', 'ec-1')
    stack.op.published = [stack.op.signingKey, real]
    const forger = await stack.op.newKey('ES256', 'ec-1')
    stack.op.bend.idToken = (c) => c.sign(c.claims, { key: forger })
    await expectIdTokenRejected(true)
  })

  test('a tampered payload under a valid signature', async () => {
    stack.op.bend.idToken = async (c) => {
      const [header, , signature] = (await c.sign(c.claims)).split('.')
      const payload = Buffer.from(JSON.stringify({ ...c.claims, sub: 'admin' })).toString('base64url')
      return `${header}.${payload}.${signature}`
    }
    await expectIdTokenRejected()
  })

  test('an algorithm the OP does not advertise, even with a valid key (FAPI2SPFinalClientTestInvalidAlternateAlg)', async () => {
    const ec = await stack.op.newKey('ES256', 'ec-1')
    stack.op.published = [stack.op.signingKey, ec]
    stack.op.bend.discovery = (m) => ({ ...m, id_token_signing_alg_values_supported: ['RS256'] })
    stack.op.bend.idToken = (c) => c.sign(c.claims, { key: ec })
    await expectIdTokenRejected(true)
  })

  test('no kid and several matching keys (rp-id_token-kid-absent-multiple-jwks)', async () => {
    const second = await stack.op.newKey('RS256', 'key-2')
    stack.op.published = [stack.op.signingKey, second]
    stack.op.bend.idToken = (c) => c.sign(c.claims, { key: { ...stack.op.signingKey, kid: undefined } })
    await expectIdTokenRejected(true)
  })

  test.each(['at+jwt', 'application/at+jwt', 'logout+jwt', 'dpop+jwt', 'secevent+jwt', 'oauth-authz-req+jwt', 'AT+JWT', '<b>'])(
    'typ %s: a token of another kind (RFC 8725 §3.11)',
    async (typ) => {
      stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { typ } })
      await expectIdTokenRejected()
      expect(stack.errors.at(-1)!.message).toMatch(/typ header is .*RFC 8725/)
      expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]/)
    },
  )

  test('an unknown critical header parameter (RFC 7515 §4.1.11)', async () => {
    stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { crit: ['x-unknown'], 'x-unknown': true } })
    await expectIdTokenRejected()
  })

  test.each([
    ['not a JWT', 'not-a-jwt'],
    ['a JWE (encrypted, not configured)', 'a.b.c.d.e'],
    ['a JWT whose payload is not JSON', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm90IGpzb24.c2ln`],
  ])('an id_token that is %s', async (_name, token) => {
    stack.op.bend.idToken = () => token
    await expectIdTokenRejected()
  })

  test('a token response without id_token (openid scope requested: Core §3.1.3.3)', async () => {
    stack.op.bend.token = (valid) => {
      const { id_token: _, ...body } = valid.body as Record<string, unknown>
      return { ...valid, body }
    }
    await expectIdTokenRejected()
  })

  test('a JWKS endpoint that fails: the signature cannot be checked', async () => {
    stack.op.bend.jwks = () => ({ status: 500, body: 'down' })
    await expectIdTokenRejected(true)
  })

  test('a JWKS endpoint that never answers: bounded by httpTimeout', async () => {
    stack.op.bend.jwks = () => ({ hang: true })
    await expectIdTokenRejected({ httpTimeout: 800 }, 504, 'ERR_OP_TIMEOUT')
  })

  // Core §3.1.2.1 / §3.1.3.7 item 13: a login that asked for max_age must get a fresh enough auth_time.
  test.each<[string, (claims: Claims) => Claims]>([
    ['an auth_time older than max_age asked for', (c) => ({ ...c, auth_time: now() - 3600 })],
    ['no auth_time though max_age was asked for', (c) => ({ ...c, auth_time: undefined })],
  ])('%s (Core §3.1.3.7)', async (_name, change) => {
    stack.op.bend.idToken = withClaims(change)
    await expectIdTokenRejected({ authorizationParams: { scope: 'openid', max_age: '300' } })
  })
})

describe('accepted ID tokens (valid variations a strict client must not refuse)', () => {
  test('an auth_time within the max_age asked for', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, auth_time: now() - 100 }))
    await onApp({ authorizationParams: { scope: 'openid', max_age: '300' } }, async (app) => {
      const browser = app.browser()
      await app.expectLoggedIn(await app.login(browser), browser)
    })
  })

  test('the plain valid token, with the claims stored', async () => {
    const claims = await expectAccepted()
    expect(claims).toMatchObject({ sub: 'alice', iss: stack.op.issuer, aud: HOSTILE_CLIENT_ID })
  })

  test('extra and unknown claims (Core §5.1: ignore claims not understood)', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, 'https://example.com/roles': ['a'], acr: 'urn:x', amr: ['pwd'], auth_time: now(), sid: 's1', jti: 'j1' }))
    expect(await expectAccepted()).toMatchObject({ 'https://example.com/roles': ['a'] })
  })

  test('aud as a one-element array (FAPI2SPFinalClientTestValidAudAsArray)', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, aud: [HOSTILE_CLIENT_ID] }))
    await expectAccepted()
  })

  test('aud array with another audience and azp = this client (Core §3.1.3.7 #3-5)', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, aud: [HOSTILE_CLIENT_ID, 'api.example'], azp: HOSTILE_CLIENT_ID }))
    await expectAccepted()
  })

  test.each(['JWT', 'jwt', 'application/jwt'])('typ %s', async (typ) => {
    stack.op.bend.idToken = (c) => c.sign(c.claims, { header: { typ } })
    await expectAccepted()
  })

  test('azp = this client with a single aud', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, azp: HOSTILE_CLIENT_ID }))
    await expectAccepted()
  })

  test('OP clock behind within clockTolerance: exp just passed', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, iat: now() - 300, exp: now() - 30 }))
    await expectAccepted()
  })

  test('OP clock ahead within clockTolerance: iat and nbf in the near future', async () => {
    stack.op.bend.idToken = withClaims((c) => ({ ...c, iat: now() + 30, nbf: now() + 30, exp: now() + 330 }))
    await expectAccepted()
  })

  test('no kid with a single key in the JWKS (rp-id_token-kid-absent-single-jwks)', async () => {
    const kidless = { ...stack.op.signingKey, kid: undefined, publicJwk: { ...stack.op.signingKey.publicJwk, kid: undefined } }
    stack.op.published = [kidless]
    stack.op.signingKey = kidless
    await expectAccepted(true)
  })

  test.each([['ES256'], ['PS256']] as const)('%s when the OP advertises it (rp-id_token-sig-*)', async (alg) => {
    const key = await stack.op.newKey(alg, `${alg}-key`)
    stack.op.published = [stack.op.signingKey, key]
    stack.op.signingKey = key
    await expectAccepted(true)
  })

  test('a JWKS with unusable keys beside the right one (OIDCCClientTestIgnoresUnparseableKeyInJwks)', async () => {
    stack.op.bend.jwks = (valid) => ({
      keys: [{ kty: 'RSA', kid: 'broken', n: '!!', e: 'AQAB' }, { kty: 'oct', kid: 'sym', k: 'c2VjcmV0' }, { kty: 'RSA', kid: 'enc', use: 'enc', n: 'x', e: 'AQAB' }, ...valid.keys],
    })
    await expectAccepted(true)
  })
})

describe('a claim named __proto__ (prototype pollution through claims)', () => {
  const expectPlainUser = async (browser: ReturnType<HostileStack['browser']>) => {
    const probe = JSON.parse((await browser.request(`${stack.baseURL}/user`)).body)
    expect(probe).toMatchObject({ prototypeIsObject: true, isAdmin: null })
    expect(probe.keys).not.toContain('__proto__')
    return probe as { claimKeys: string[] }
  }

  test("never becomes the prototype of req.oidc.user, and is not stored", async () => {
    stack.op.bend.idToken = (c) => c.sign(Object.assign(JSON.parse('{"__proto__": {"isAdmin": true}}'), c.claims))
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect((await expectPlainUser(browser)).claimKeys).not.toContain('__proto__')
  })

  test('req.oidc.user stays plain even for claims stored with it (an older session, afterCallback)', async () => {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    editStoredSession(stack.store, browser, stack.baseURL, (session) => {
      session.expressPar!.default!.login!.auth.claims = JSON.parse(`{"sub": "alice", "__proto__": {"isAdmin": true}}`)
    })
    const stored = storedAuth(storedSession(stack.store, browser, stack.baseURL))!
    expect(Object.keys(stored.claims)).toContain('__proto__')
    expect((await expectPlainUser(browser)).claimKeys).not.toContain('__proto__')
  })
})

/** The OP's current public key as a KeyObject-compatible value for exportSPKI. */
async function publicKeyOf(s: HostileStack) {
  const { importJWK } = await import('jose')
  return importJWK(s.op.signingKey.publicJwk, 'RS256', { extractable: true }) as Promise<CryptoKey>
}
