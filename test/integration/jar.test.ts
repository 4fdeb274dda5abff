/**
 * JAR (RFC 9101) inside PAR and signed client authentication (RFC 7523), against oidc-provider
 * with the client registered for private_key_jwt, require_signed_request_object and PAR required.
 * The assertions are on what the OP received.
 */

import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose'
import type { AuthOptions } from 'express-par'
import { CLIENT_ID, CLIENT_SECRET, startStack, type Stack, type StackOptions } from '../support/stack.js'
import { KEY_FORMATS, inFormat, testKey, type TestKey } from '../support/keys.js'

const JAR_FEATURES = { requestObjects: { enabled: true, requireSignedRequestObject: false } }
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

type Body = Record<string, string>

/** The form body the OP's PAR endpoint received (oidc-provider's parsed `ctx.oidc.body`). */
function pushedBody(stack: Stack): Body {
  const pushed = stack.opEvents.filter((e) => e.name === 'pushed_authorization_request.success')
  expect(pushed).toHaveLength(1)
  return { ...(pushed[0]!.args[0] as { oidc: { body: Body } }).oidc.body }
}

/** The form body the OP's token endpoint received for the code grant. */
function tokenBody(stack: Stack): Body {
  const grants = stack.opEvents.filter((e) => e.name === 'grant.success')
  expect(grants).toHaveLength(1)
  return { ...(grants[0]!.args[0] as { oidc: { body: Body } }).oidc.body }
}

/** A full login through the stack's app; returns the user the app stored. */
async function loginAndGetUser(stack: Stack): Promise<{ sub: string }> {
  const browser = stack.browser()
  const done = await stack.login(browser)
  expect(stack.errors).toEqual([])
  expect(done.status).toBe(302)
  const me = JSON.parse((await browser.request(`${stack.baseURL}/`)).body)
  expect(me.authenticated).toBe(true)
  return me.user
}

/** Checks a client assertion as RFC 7523 §3 and the issue ask: fresh jti, short exp, aud = issuer. */
function expectClientAssertion(stack: Stack, body: Body, header: { alg: string; kid?: string }): JWTPayload {
  expect(body.client_assertion_type).toBe(ASSERTION_TYPE)
  expect(decodeProtectedHeader(body.client_assertion!)).toEqual(header.kid ? { alg: header.alg, kid: header.kid } : { alg: header.alg })
  const claims = decodeJwt(body.client_assertion!)
  expect(claims).toMatchObject({ iss: CLIENT_ID, sub: CLIENT_ID, aud: stack.issuer })
  expect(claims.jti).toEqual(expect.any(String))
  expect(claims.jti!.length).toBeGreaterThanOrEqual(32)
  expect(claims.exp! - claims.iat!).toBeGreaterThan(0)
  expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60)
  return claims
}

/** Checks the request object: header, the claims JAR asks for, and every authorization parameter inside. */
function expectRequestObject(stack: Stack, request: string, header: { alg: string; kid: string }): JWTPayload {
  expect(decodeProtectedHeader(request)).toEqual({ alg: header.alg, typ: 'oauth-authz-req+jwt', kid: header.kid })
  const claims = decodeJwt(request)
  expect(claims).toMatchObject({
    iss: CLIENT_ID,
    aud: stack.issuer,
    client_id: CLIENT_ID,
    response_type: 'code',
    redirect_uri: `${stack.baseURL}/callback`,
    scope: 'openid profile email',
    code_challenge_method: 'S256',
  })
  for (const secret of ['code_challenge', 'state', 'nonce']) expect(claims[secret]).toMatch(/^[\w-]{43}$/)
  expect(claims).not.toHaveProperty('sub')
  expect(claims).not.toHaveProperty('request')
  expect(claims).not.toHaveProperty('request_uri')
  expect(claims.jti).toEqual(expect.any(String))
  expect(claims.jti!.length).toBeGreaterThanOrEqual(32)
  const now = Math.floor(Date.now() / 1000)
  expect(Math.abs(claims.iat! - now)).toBeLessThanOrEqual(5)
  expect(claims.nbf).toBe(claims.iat)
  expect(claims.exp! - claims.nbf!).toBeGreaterThan(0)
  expect(claims.exp! - claims.nbf!).toBeLessThanOrEqual(60)
  return claims
}

const JWKS_ROUTE = '/.well-known/jwks.json'

/**
 * The client registration of a JAR + private_key_jwt client, as the seeds' strict deployments
 * have it. Its keys are at the app's `routes.jwks` (`jwks_uri`), which the OP fetches. (Inline
 * `jwks` cannot be used under Jest: oidc-provider structuredClones static clients, and the clone's
 * objects fail its same-realm plain-object check.)
 */
function strictClient(alg: string) {
  return (baseURL: string): Record<string, unknown> => ({
    client_secret: undefined,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: alg,
    jwks_uri: `${baseURL}${JWKS_ROUTE}`,
    require_signed_request_object: true,
    request_object_signing_alg: alg,
  })
}

/**
 * oidc-provider refuses to fetch from loopback addresses (SSRF protection, when it can hook
 * undici); the OP here may fetch the app's jwks_uri, on this machine.
 */
function jwksFetch(url: string, options: RequestInit & { dispatcher?: unknown }): Promise<Response> {
  if (!url.endsWith(JWKS_ROUTE)) return fetch(url, options)
  const { dispatcher: _ssrfProtection, ...rest } = options
  return fetch(url, rest)
}

async function withStack(options: StackOptions, run: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack({ opFeatures: JAR_FEATURES, ...options, opConfiguration: { fetch: jwksFetch, ...options.opConfiguration } })
  try {
    await run(stack)
  } finally {
    await stack.close()
  }
}

describe.each([['PS256'], ['ES256'], ['EdDSA']])('JAR + private_key_jwt with a %s key', (alg) => {
  let key: TestKey
  beforeAll(async () => {
    key = await testKey(alg)
  })

  test.each(KEY_FORMATS)('given as %s: a full login, the OP receiving only request, client_id and the client assertion', async (format) => {
    const signingKey = await inFormat(key, format)
    const auth: Partial<AuthOptions> = {
      clientSecret: undefined,
      clientAssertionSigningKey: signingKey,
      requestObjectSigningKey: signingKey,
      routes: { jwks: JWKS_ROUTE },
    }
    await withStack({ client: strictClient(alg), auth }, async (stack) => {
      const user = await loginAndGetUser(stack)
      expect(user.sub).toBe('alice')

      const par = pushedBody(stack)
      expect(Object.keys(par).sort()).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'request'])
      expect(par.client_id).toBe(CLIENT_ID)
      expectRequestObject(stack, par.request!, { alg, kid: key.publicJwk.kid })
      const parAssertion = expectClientAssertion(stack, par, { alg, kid: key.publicJwk.kid })

      const token = tokenBody(stack)
      expect(token).toMatchObject({ grant_type: 'authorization_code', client_id: CLIENT_ID })
      expect(token).not.toHaveProperty('client_secret')
      const tokenAssertion = expectClientAssertion(stack, token, { alg, kid: key.publicJwk.kid })
      expect(tokenAssertion.jti).not.toBe(parAssertion.jti)
    })
  })
})

describe('client authentication with a secret', () => {
  test('client_secret_jwt: an HS256 assertion at the PAR and token endpoints', async () => {
    const client = { token_endpoint_auth_method: 'client_secret_jwt', token_endpoint_auth_signing_alg: 'HS256' }
    await withStack({ client, auth: { clientAuthMethod: 'client_secret_jwt' } }, async (stack) => {
      expect((await loginAndGetUser(stack)).sub).toBe('alice')
      const par = pushedBody(stack)
      expect(par).not.toHaveProperty('client_secret')
      expect(par).not.toHaveProperty('request')
      const parAssertion = expectClientAssertion(stack, par, { alg: 'HS256' })
      const tokenAssertion = expectClientAssertion(stack, tokenBody(stack), { alg: 'HS256' })
      expect(tokenAssertion.jti).not.toBe(parAssertion.jti)
    })
  })

  test('client_secret_post: the secret in the PAR and token request bodies', async () => {
    await withStack({ client: { token_endpoint_auth_method: 'client_secret_post' }, auth: { clientAuthMethod: 'client_secret_post' } }, async (stack) => {
      expect((await loginAndGetUser(stack)).sub).toBe('alice')
      expect(pushedBody(stack)).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, scope: 'openid profile email' })
      expect(tokenBody(stack)).toMatchObject({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET })
    })
  })

  test('client_secret_basic with JAR: the PAR body is request and client_id only; requestObjectSigningKeyId names the key', async () => {
    const key = await testKey('ES256', { kid: 'jar-key-1' })
    const client = (baseURL: string) => ({ require_signed_request_object: true, request_object_signing_alg: 'ES256', jwks_uri: `${baseURL}${JWKS_ROUTE}` })
    const auth = { requestObjectSigningKey: await inFormat(key, 'PEM'), requestObjectSigningKeyId: 'jar-key-1', routes: { jwks: JWKS_ROUTE } }
    await withStack({ client, auth }, async (stack) => {
      expect((await loginAndGetUser(stack)).sub).toBe('alice')
      const par = pushedBody(stack)
      expect(Object.keys(par).sort()).toEqual(['client_id', 'request'])
      expectRequestObject(stack, par.request!, { alg: 'ES256', kid: 'jar-key-1' })
    })
  })
})

describe('the OP and the configuration disagree: ERR_CONFIG_INVALID at the first login, nothing pushed', () => {
  async function expectConfigError(stack: Stack, message: RegExp): Promise<void> {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    expect(start.status).toBe(500)
    expect(JSON.parse(start.body).code).toBe('ERR_CONFIG_INVALID')
    expect(stack.errors[0]!.message).toMatch(message)
    expect(stack.opRequests).not.toContain('/request')
    expect(stack.opEvents).toEqual([])
  }

  test('the OP requires signed request objects and no requestObjectSigningKey is set', async () => {
    const features = { requestObjects: { enabled: true, requireSignedRequestObject: true } }
    await withStack({ opFeatures: features }, (stack) =>
      expectConfigError(stack, /requires signed request objects \(require_signed_request_object: true\).*set `requestObjectSigningKey`.*npx express-par keygen/),
    )
  })

  test.each([
    ['requestObjectSigningKey', 'request_object_signing_alg_values_supported'],
    ['clientAssertionSigningKey', 'token_endpoint_auth_signing_alg_values_supported'],
  ])('a %s the OP cannot accept (ES384 against ES256 and friends) names both sides', async (option, metadata) => {
    const key = await testKey('ES384')
    const auth: Partial<AuthOptions> = { [option]: await inFormat(key, 'JWK') }
    await withStack({ auth }, (stack) =>
      expectConfigError(stack, new RegExp(`\`${option}\` is an EC P-384 key signing with ES384, but the OP at .* accepts only HS256, RS256, PS256, ES256, Ed25519, EdDSA \\(${metadata}\\)`)),
    )
  })

  test('a clientAuthMethod the OP does not offer', async () => {
    const opConfiguration = { clientAuthMethods: ['client_secret_basic', 'private_key_jwt'] }
    await withStack({ opConfiguration, auth: { clientAuthMethod: 'client_secret_post' } }, (stack) =>
      expectConfigError(stack, /`clientAuthMethod` is client_secret_post, but the OP at .* accepts only client_secret_basic, private_key_jwt \(token_endpoint_auth_methods_supported\)/),
    )
  })
})
