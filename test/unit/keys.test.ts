import { createPublicKey, createSecretKey, generateKeyPairSync, KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair } from 'jose'
import { buildConfig, type AuthOptions } from '../../lib/config/options.js'
import { ExpressParError } from '../../lib/errors.js'
import { assertionOptions, chooseAlg, loadSigningKey, type SigningKey } from '../../lib/op/keys.js'
import { modifyAssertion } from 'openid-client'

const base: AuthOptions = {
  issuerBaseURL: 'https://op.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'client',
  clientSecret: 'secret',
}

function configError(options: Record<string, unknown>): ExpressParError {
  try {
    buildConfig({ ...base, ...options } as AuthOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressParError)
    expect((err as ExpressParError).code).toBe('ERR_CONFIG_INVALID')
    expect((err as ExpressParError).status).toBe(500)
    return err as ExpressParError
  }
  throw new Error('buildConfig accepted the options')
}

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed25519 = generateKeyPairSync('ed25519')
const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }) as string
const jwk = (key: KeyObject) => key.export({ format: 'jwk' })

describe('unusable keys are refused by auth() with ERR_CONFIG_INVALID naming the option', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a number', { requestObjectSigningKey: 42 }, /`requestObjectSigningKey` must be a private key: a JWK object, a PKCS#8 PEM string, a KeyObject or a CryptoKey/],
    ['a string that is not PEM', { requestObjectSigningKey: 'my-secret' }, /`requestObjectSigningKey` is a string but not a PEM private key.*npx express-par keygen/],
    ['a public key PEM', { requestObjectSigningKey: createPublicKey(ec256.privateKey).export({ format: 'pem', type: 'spki' }) }, /is a public key or certificate: configure the private key/],
    ['a garbled PEM', { requestObjectSigningKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----' }, /is not a readable, unencrypted PKCS#8 PEM private key/],
    ['an encrypted PEM', { requestObjectSigningKey: ec256.privateKey.export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: 'x' }) }, /is not a readable, unencrypted PKCS#8 PEM/],
    ['a public JWK', { clientAssertionSigningKey: jwk(ec256.publicKey), clientSecret: undefined }, /`clientAssertionSigningKey` is a public JWK \(no "d"\)/],
    ['an encryption JWK', { requestObjectSigningKey: { ...jwk(ec256.privateKey), use: 'enc' } }, /is a JWK for "use": "enc"; a signing key has "use": "sig"/],
    ['a malformed JWK', { requestObjectSigningKey: { kty: 'EC', crv: 'P-256', d: 'x' } }, /is not a usable private JWK/],
    ['a public KeyObject', { requestObjectSigningKey: ec256.publicKey }, /is a public key: configure the private key here/],
    ['a secret KeyObject', { requestObjectSigningKey: createSecretKey(Buffer.alloc(32)) }, /is a secret key: configure the private key here/],
    ['an RSA 1024-bit key', { requestObjectSigningKey: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey }, /is an RSA 1024-bit key: RSA keys must have at least 2048 bits/],
    ['an EC key on secp256k1', { requestObjectSigningKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey }, /EC key on curve secp256k1: use P-256, P-384 or P-521/],
    ['an Ed448 key', { requestObjectSigningKey: generateKeyPairSync('ed448').privateKey }, /is a key of type ed448: use an RSA/],
    ['a symmetric algorithm', { requestObjectSigningKey: ec256.privateKey, requestObjectSigningAlg: 'HS256' }, /`requestObjectSigningAlg` is HS256: express-par signs with asymmetric keys only/],
    ['alg none', { requestObjectSigningKey: ec256.privateKey, requestObjectSigningAlg: 'none' }, /asymmetric keys only/],
    ['an unknown algorithm', { requestObjectSigningKey: ec256.privateKey, requestObjectSigningAlg: 'ES257' }, /`requestObjectSigningAlg` must be one of PS256, .*, got "ES257"/],
    ['an algorithm the key cannot sign with', { requestObjectSigningKey: ec256.privateKey, requestObjectSigningAlg: 'PS256' }, /`requestObjectSigningAlg` is PS256 but `requestObjectSigningKey` is an EC P-256 key, which signs with ES256/],
    ['an RSA algorithm for an Ed25519 key', { clientAssertionSigningKey: ed25519.privateKey, clientAssertionSigningAlg: 'RS256' }, /`clientAssertionSigningAlg` is RS256 but `clientAssertionSigningKey` is an Ed25519 key, which signs with EdDSA, Ed25519/],
    ['a JWK alg that disagrees with the option', { requestObjectSigningKey: { ...jwk(rsa.privateKey), alg: 'RS256' }, requestObjectSigningAlg: 'PS256' }, /is PS256 but the JWK in `requestObjectSigningKey` says "alg": "RS256"/],
    ['requestObjectSigningAlg without a key', { requestObjectSigningAlg: 'PS256' }, /`requestObjectSigningAlg` is set but `requestObjectSigningKey` is not/],
    ['requestObjectSigningKeyId without a key', { requestObjectSigningKeyId: 'k1' }, /`requestObjectSigningKeyId` is set but `requestObjectSigningKey` is not/],
    ['an empty requestObjectSigningKeyId', { requestObjectSigningKey: ec256.privateKey, requestObjectSigningKeyId: '' }, /`requestObjectSigningKeyId` must be a non-empty string/],
  ])('%s', (_name, options, message) => {
    expect(configError(options).message).toMatch(message)
  })
})

describe('client authentication options', () => {
  test.each<[string, Record<string, unknown>, RegExp]>([
    ['private_key_jwt without a key', { clientAuthMethod: 'private_key_jwt' }, /`clientAssertionSigningKey` is required for private_key_jwt.*npx express-par keygen/],
    ['a secret method without a secret', { clientAuthMethod: 'client_secret_jwt', clientSecret: undefined }, /`clientSecret` is required: PAR .*client_secret_jwt authenticates with the secret/],
    ['no secret and no key at all', { clientSecret: undefined }, /`clientSecret` is required.*or authenticate with a key instead \(`clientAssertionSigningKey`/],
    ['an empty secret', { clientSecret: '' }, /`clientSecret` must be a non-empty string/],
    ['a key with a secret method', { clientAuthMethod: 'client_secret_basic', clientAssertionSigningKey: ec256.privateKey }, /`clientAssertionSigningKey` is only used with `clientAuthMethod: 'private_key_jwt'`/],
    ['an assertion algorithm with client_secret_basic', { clientAssertionSigningAlg: 'HS256' }, /`clientAssertionSigningAlg` is only used with client_secret_jwt or private_key_jwt/],
    ['another algorithm than HS256 with client_secret_jwt', { clientAuthMethod: 'client_secret_jwt', clientAssertionSigningAlg: 'HS512' }, /must be HS256 with client_secret_jwt, got "HS512"/],
    ['routes.jwks without any key', { routes: { jwks: '/jwks' } }, /`routes.jwks` publishes .* but neither is configured/],
    ['routes.jwks on the login path', { routes: { jwks: '/login' }, requestObjectSigningKey: ec256.privateKey }, /must be different paths/],
  ])('refuses %s', (_name, options, message) => {
    expect(configError(options).message).toMatch(message)
  })

  test('a clientAssertionSigningKey means private_key_jwt, with no secret needed', () => {
    const config = buildConfig({ ...base, clientSecret: undefined, clientAssertionSigningKey: pem(ec256.privateKey) })
    expect(config.clientAuthMethod).toBe('private_key_jwt')
    expect(config.clientAuth.key?.algs).toEqual(['ES256'])
    expect(config.clientSecret).toBeUndefined()
  })

  test('client_secret_jwt with HS256 and client_secret_post are accepted', () => {
    expect(buildConfig({ ...base, clientAuthMethod: 'client_secret_jwt', clientAssertionSigningAlg: 'HS256' }).clientAuthMethod).toBe('client_secret_jwt')
    expect(buildConfig({ ...base, clientAuthMethod: 'client_secret_post' }).clientAuthMethod).toBe('client_secret_post')
  })
})

const load = (input: unknown, alg?: string, kid?: string): SigningKey =>
  loadSigningKey(input, { option: 'requestObjectSigningKey', algOption: 'requestObjectSigningAlg', alg, kid, kidOption: 'requestObjectSigningKeyId' })

describe('accepted keys', () => {
  test.each<[string, () => Promise<unknown>, string[]]>([
    ['an RSA JWK: PS256, else RS256', async () => jwk(rsa.privateKey), ['PS256', 'RS256']],
    ['an RSA PEM', async () => pem(rsa.privateKey), ['PS256', 'RS256']],
    ['an EC P-384 KeyObject', async () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, ['ES384']],
    ['an EC P-521 PEM', async () => pem(generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey), ['ES512']],
    ['an Ed25519 CryptoKey: EdDSA, else Ed25519', async () => (await generateKeyPair('Ed25519')).privateKey, ['EdDSA', 'Ed25519']],
    ['a non-extractable ES256 CryptoKey', async () => (await generateKeyPair('ES256', { extractable: false })).privateKey, ['ES256']],
    ['an RSA JWK with "alg": "RS384"', async () => ({ ...jwk(rsa.privateKey), alg: 'RS384' }), ['RS384']],
  ])('%s', async (_name, make, algs) => {
    const key = load(await make())
    expect(key.algs).toEqual(algs)
    const material = await key.material()
    for (const alg of algs) {
      const cryptoKey = material.cryptoKey(alg as never)
      expect(cryptoKey.type).toBe('private')
      expect(cryptoKey.extractable).toBe(false)
      expect(cryptoKey.usages).toEqual(['sign'])
    }
    expect(material.publicJwk).not.toHaveProperty('d')
    expect(material.publicJwk.use).toBe('sig')
  })

  test('RSA with an explicit algorithm imports that algorithm only', async () => {
    const key = load(rsa.privateKey, 'RS512')
    expect(key.algs).toEqual(['RS512'])
    const cryptoKey = (await key.material()).cryptoKey('RS512')
    expect(cryptoKey.algorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-512' } })
    expect((await key.material()).publicJwk.alg).toBe('RS512')
  })

  test('the key id is the JWK thumbprint (RFC 7638), the JWK kid, or the configured one', async () => {
    const thumbprint = await calculateJwkThumbprint(jwk(ec256.publicKey))
    expect((await load(pem(ec256.privateKey)).material()).kid).toBe(thumbprint)
    expect((await load({ ...jwk(ec256.privateKey), kid: 'from-jwk' }).material()).kid).toBe('from-jwk')
    expect((await load({ ...jwk(ec256.privateKey), kid: 'from-jwk' }, undefined, 'configured').material()).publicJwk.kid).toBe('configured')
  })

  test('the key is imported once, at start-up: every use shares the same import', async () => {
    const key = load(ec256.privateKey)
    const first = key.material()
    expect(key.material()).toBe(first)
    expect((await first).cryptoKey('ES256')).toBe((await key.material()).cryptoKey('ES256'))
  })

  test('keys made by jose in every format give the same public key', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true })
    const expected = await exportJWK(publicKey)
    for (const input of [privateKey, await exportPKCS8(privateKey), await exportJWK(privateKey), KeyObject.from(privateKey)]) {
      expect((await load(input).material()).publicJwk).toMatchObject(expected)
    }
    expect(await exportSPKI(publicKey)).toMatch(/PUBLIC KEY/)
  })
})

describe('chooseAlg settles the algorithm with the OP', () => {
  const rsaKey = load(rsa.privateKey)
  const edKey = load(ed25519.privateKey)
  test.each<[string, SigningKey, unknown, string]>([
    ['RSA, OP lists PS256 and RS256', rsaKey, ['RS256', 'PS256'], 'PS256'],
    ['RSA, OP lists RS256 only', rsaKey, ['RS256'], 'RS256'],
    ['RSA, OP lists nothing', rsaKey, undefined, 'PS256'],
    ['Ed25519, OP lists EdDSA', edKey, ['EdDSA'], 'EdDSA'],
    ['Ed25519, OP lists only the fully-specified Ed25519', edKey, ['Ed25519'], 'Ed25519'],
  ])('%s', (_name, key, supported, expected) => {
    expect(chooseAlg(key, supported, 'request_object_signing_alg_values_supported', 'https://op.example.com')).toBe(expected)
  })

  test('a key the OP cannot accept is a configuration error naming both sides', () => {
    let error: ExpressParError | undefined
    try {
      chooseAlg(rsaKey, ['ES256', 'EdDSA'], 'request_object_signing_alg_values_supported', 'https://op.example.com')
    } catch (err) {
      error = err as ExpressParError
    }
    expect(error?.code).toBe('ERR_CONFIG_INVALID')
    expect(error?.message).toBe(
      'express-par: `requestObjectSigningKey` is an RSA 2048-bit key signing with PS256 or RS256, but the OP at https://op.example.com accepts only ES256, EdDSA (request_object_signing_alg_values_supported). Use a key the OP accepts (`npx express-par keygen --alg ES256`) or set `requestObjectSigningAlg`.',
    )
  })

  test('EdDSA renames openid-client\'s Ed25519 header; other algorithms keep it', () => {
    const header: Record<string, unknown> = { alg: 'Ed25519' }
    assertionOptions('EdDSA')![modifyAssertion]!(header as never, {} as never)
    expect(header.alg).toBe('EdDSA')
    expect(assertionOptions('Ed25519')).toBeUndefined()
    expect(assertionOptions('ES256')).toBeUndefined()
  })
})
