/**
 * The options of sender-constrained tokens and the FAPI 2.0 preset, checked by auth() before the
 * app serves anything (table-driven, like config.test.ts): `dpop`, `mtls`, the TLS client
 * authentication methods, and `profile: 'fapi2-security'`, which refuses each forbidden setting
 * naming its rule.
 */

import { generateKeyPairSync } from 'node:crypto'
import { buildConfig, type AuthOptions } from '../../lib/config/options.js'
import { configError } from '../support/config-error.js'
import { checkMtls } from '../../lib/op/mtls.js'
import { freshPki } from '../support/pki.js'

const pki = freshPki()
const pem = (type: 'rsa' | 'ec' | 'ed25519', options: Record<string, unknown> = {}) =>
  generateKeyPairSync(type as 'rsa', options as { modulusLength: number }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string
const rsaKey = pem('rsa', { modulusLength: 2048 })
const p384Key = pem('ec', { namedCurve: 'P-384' })
const ed25519Key = pem('ed25519')

const base: AuthOptions = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'client' }
/** A compliant FAPI 2.0 configuration: private_key_jwt + DPoP. */
const fapi: AuthOptions = { ...base, clientAssertionSigningKey: rsaKey, dpop: true, profile: 'fapi2-security' }
/** Another: mTLS + mTLS. */
const fapiMtls: AuthOptions = { ...base, clientAuthMethod: 'self_signed_tls_client_auth', mtls: pki.client, profile: 'fapi2-security' }

const refusal = (options: unknown): string => configError(options).message

describe('dpop', () => {
  test.each<[unknown, string]>([
    [true, 'ES256'],
    [{}, 'ES256'],
    [{ alg: 'EdDSA' }, 'EdDSA'],
    [{ alg: 'PS256' }, 'PS256'],
  ])('dpop: %j -> proofs with %s', (dpop, alg) => {
    expect(buildConfig({ ...base, clientSecret: 's', dpop } as AuthOptions).dpop).toEqual({ alg })
  })
  test('dpop: false (or absent) is off', () => {
    expect(buildConfig({ ...base, clientSecret: 's', dpop: false }).dpop).toBeUndefined()
  })
  test.each<[string, unknown, RegExp]>([
    ['a string', 'ES256', /`dpop` must be true, false or \{ alg: 'ES256' \| 'EdDSA' \| 'PS256' \}, got "ES256"/],
    ['an algorithm FAPI does not permit', { alg: 'RS256' }, /`dpop.alg` must be one of ES256, EdDSA, PS256, got "RS256"/],
    ['a misspelt key', { algo: 'ES256' }, /unknown option `dpop.algo`. Did you mean `dpop.alg`\?/],
  ])('refuses %s', (_name, dpop, message) => {
    expect(refusal({ ...base, clientSecret: 's', dpop })).toMatch(message)
  })
})

describe('mtls', () => {
  test('PEM strings or Buffers; the CA as a string or an array', () => {
    const config = buildConfig({ ...base, clientSecret: 's', mtls: { cert: Buffer.from(pki.client.cert), key: Buffer.from(pki.client.key), ca: [pki.ca, pki.ca] } })
    expect(config.mtls).toMatchObject({ cert: pki.client.cert, key: pki.client.key, ca: [expect.stringContaining('BEGIN CERTIFICATE'), expect.stringContaining('BEGIN CERTIFICATE')] })
    expect(config.mtls!.certificate.subject).toContain('express-par self-signed mTLS client')
  })

  test.each<[string, unknown, RegExp]>([
    ['not an object', 'cert.pem', /`mtls` must be an object \{ cert, key, ca\? \}/],
    ['a misspelt key', { ...pki.client, cer: pki.client.cert }, /unknown option `mtls.cer`. Did you mean `mtls.cert`\?/],
    ['no cert', { key: pki.client.key }, /`mtls.cert` is required/],
    ['no key', { cert: pki.client.cert }, /`mtls.key` is required/],
    ['a cert that is not PEM', { ...pki.client, cert: 'MIIB...' }, /`mtls.cert` is not PEM/],
    ['a private key as the cert', { ...pki.client, cert: pki.client.key }, /`mtls.cert` is a private key; it must be a certificate/],
    ['a certificate as the key', { ...pki.client, key: pki.client.cert }, /`mtls.key` holds no private key/],
    ['a key that does not match the cert', { ...pki.client, key: pki.otherClient.key }, /`mtls.key` does not belong to `mtls.cert` \(subject "CN=express-par self-signed mTLS client"\)/],
    ['a number as the cert', { ...pki.client, cert: 42 }, /`mtls.cert` must be a PEM string or a Buffer holding PEM, got number/],
    ['a CA that is not a certificate', { ...pki.client, ca: pki.client.key }, /`mtls.ca` is a private key/],
    ['an empty CA list', { ...pki.client, ca: [] }, /`mtls.ca` is an empty array/],
    ['a broken certificate', { ...pki.client, cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }, /`mtls.cert`: certificate 1 cannot be read/],
  ])('refuses %s', (_name, mtls, message) => {
    expect(refusal({ ...base, clientSecret: 's', mtls })).toMatch(message)
  })

  test('refuses an expired certificate', () => {
    expect(() => checkMtls(pki.client, new Date(Date.now() + 30 * 86400 * 1000))).toThrow(/`mtls.cert` \(subject .*\) expired on/)
  })
})

describe('TLS client authentication (RFC 8705 §2)', () => {
  test.each(['tls_client_auth', 'self_signed_tls_client_auth'] as const)('%s with mtls', (method) => {
    expect(buildConfig({ ...base, clientAuthMethod: method, mtls: pki.client }).clientAuth).toEqual({ method, secret: undefined, key: undefined })
  })
  test.each<[string, Partial<AuthOptions>, RegExp]>([
    ['without mtls', { clientAuthMethod: 'tls_client_auth' }, /`clientAuthMethod: 'tls_client_auth'` authenticates the client with its TLS certificate \(RFC 8705 §2\), but `mtls` is not set/],
    ['with a secret', { clientAuthMethod: 'tls_client_auth', mtls: pki.client, clientSecret: 's' }, /`clientSecret` is not used with `clientAuthMethod: 'tls_client_auth'`/],
    ['with a signing key', { clientAuthMethod: 'self_signed_tls_client_auth', mtls: pki.client, clientAssertionSigningKey: rsaKey }, /`clientAssertionSigningKey` is not used with/],
  ])('refuses it %s', (_name, options, message) => {
    expect(refusal({ ...base, ...options })).toMatch(message)
  })
  test('a missing secret with mtls set suggests the TLS methods', () => {
    expect(refusal({ ...base, mtls: pki.client })).toMatch(/or with the `mtls` certificate \(`clientAuthMethod: 'tls_client_auth'` or 'self_signed_tls_client_auth'\)/)
  })
})

describe("profile: 'fapi2-security'", () => {
  test.each([
    ['private_key_jwt + DPoP', fapi],
    ['mTLS + mTLS', fapiMtls],
    ['private_key_jwt + mTLS', { ...fapi, dpop: undefined, mtls: pki.client }],
    ['tls_client_auth + DPoP', { ...fapiMtls, clientAuthMethod: 'tls_client_auth', dpop: true }],
    ['an ES256 JAR key', { ...fapi, requestObjectSigningKey: pem('ec', { namedCurve: 'P-256' }) }],
    ['an Ed25519 assertion key', { ...fapi, clientAssertionSigningKey: ed25519Key }],
  ] as Array<[string, AuthOptions]>)('accepts %s', (_name, options) => {
    expect(buildConfig(options).profile).toEqual({ name: 'fapi2-security', idTokenAlgs: ['PS256', 'ES256', 'EdDSA'], responseAlgs: ['PS256', 'ES256', 'EdDSA'], requireIssuerParameter: true })
  })

  test('an RSA key is narrowed to PS256, an Ed25519 key to EdDSA', () => {
    expect(buildConfig(fapi).clientAuth.key!.algs).toEqual(['PS256'])
    expect(buildConfig({ ...fapi, clientAssertionSigningKey: ed25519Key }).clientAuth.key!.algs).toEqual(['EdDSA'])
    expect(buildConfig({ ...fapi, profile: undefined }).clientAuth.key!.algs).toEqual(['PS256', 'RS256'])
  })

  test.each<[string, string, Partial<AuthOptions>, string]>([
    ['https', 'an http: issuer', { issuerBaseURL: 'http://op.example.com', allowInsecureRequests: true }, '`issuerBaseURL` must be an https: URL'],
    ['https', 'an http: baseURL, even on loopback', { baseURL: 'http://localhost:3000' }, '`baseURL` must be an https: URL'],
    ['https', 'allowInsecureRequests', { allowInsecureRequests: true }, '`allowInsecureRequests` would let'],
    ['sender-constrained tokens', 'neither dpop nor mtls', { dpop: undefined }, 'set `dpop: true`'],
    ['sender-constrained tokens', 'dpop: false', { dpop: false }, 'set `dpop: true`'],
    ['client authentication', 'client_secret_basic', { clientAssertionSigningKey: undefined, clientSecret: 's' }, '`clientAuthMethod` is client_secret_basic'],
    ['client authentication', 'client_secret_post', { clientAssertionSigningKey: undefined, clientSecret: 's', clientAuthMethod: 'client_secret_post' }, '`clientAuthMethod` is client_secret_post'],
    ['client authentication', 'client_secret_jwt', { clientAssertionSigningKey: undefined, clientSecret: 's', clientAuthMethod: 'client_secret_jwt' }, '`clientAuthMethod` is client_secret_jwt'],
    ['client authentication', 'a client secret beside private_key_jwt', { clientSecret: 's' }, '`clientSecret` is set'],
    ['algorithms', 'an RS256 client assertion', { clientAssertionSigningAlg: 'RS256' }, 'signing with RS256'],
    ['algorithms', 'a P-384 key (ES384)', { clientAssertionSigningKey: p384Key }, 'an EC P-384 key signing with ES384'],
    ['algorithms', 'a PS384 request object', { requestObjectSigningKey: rsaKey, requestObjectSigningAlg: 'PS384' }, '`requestObjectSigningKey` is an RSA 2048-bit key signing with PS384'],
    ['algorithms', 'an Ed25519 key named Ed25519 rather than EdDSA', { clientAssertionSigningKey: ed25519Key, clientAssertionSigningAlg: 'Ed25519' }, 'signing with Ed25519'],
    ['key sizes', 'an RSA 1024-bit TLS client key', { mtls: pki.rsa1024Client }, 'an RSA 1024-bit key'],
  ])('refuses, naming the rule "%s": %s', (rule, _name, change, detail) => {
    const message = refusal({ ...fapi, ...change })
    expect(message).toContain(`\`profile: 'fapi2-security'\` (FAPI 2.0 Security Profile), rule "${rule}": `)
    expect(message).toContain(detail)
  })

  test('RSA keys under 2048 bits are refused with or without the profile (FAPI 2.0 key sizes, by default)', () => {
    expect(refusal({ ...fapi, clientAssertionSigningKey: pem('rsa', { modulusLength: 1024 }) })).toMatch(/RSA 1024-bit key: RSA keys must have at least 2048 bits/)
  })

  test.each([
    ['an unknown profile', 'fapi2', /`profile` must be 'fapi2-security' or 'fapi2-message-signing', got "fapi2"/],
    ['a profile that is not a string', true, /`profile` must be 'fapi2-security' or 'fapi2-message-signing', got true/],
  ])('refuses %s', (_name, profile, message) => {
    expect(refusal({ ...fapi, profile })).toMatch(message)
  })
})

describe("profile: 'fapi2-message-signing'", () => {
  /** A compliant configuration: private_key_jwt + DPoP, JAR and JARM. */
  const signing: AuthOptions = { ...fapi, requestObjectSigningKey: rsaKey, responseMode: 'jwt', profile: 'fapi2-message-signing' }

  test.each([
    ['private_key_jwt + DPoP, JAR, JARM', signing],
    ['mTLS + mTLS, JAR with an ES256 key, JARM', { ...fapiMtls, requestObjectSigningKey: pem('ec', { namedCurve: 'P-256' }), responseMode: 'jwt', profile: 'fapi2-message-signing' }],
  ] as Array<[string, AuthOptions]>)('accepts %s', (_name, options) => {
    const config = buildConfig(options)
    expect(config.profile).toEqual({ name: 'fapi2-message-signing', idTokenAlgs: ['PS256', 'ES256', 'EdDSA'], responseAlgs: ['PS256', 'ES256', 'EdDSA'], requireIssuerParameter: true })
    expect(config.responseMode).toBe('jwt')
  })

  test('the request object key is narrowed to the FAPI algorithms, like the assertion key', () => {
    expect(buildConfig(signing).requestObjectKey!.algs).toEqual(['PS256'])
  })

  test.each<[string, string, Partial<AuthOptions>, string]>([
    ['signed authorization requests', 'no requestObjectSigningKey (no JAR)', { requestObjectSigningKey: undefined }, 'set `requestObjectSigningKey`'],
    ['signed authorization responses', "no responseMode: 'jwt' (no JARM)", { responseMode: undefined }, "set `responseMode: 'jwt'`"],
    ['signed authorization responses', "responseMode: 'query'", { responseMode: 'query' }, "set `responseMode: 'jwt'`"],
    // Everything the Security Profile refuses, named under the profile the app configured.
    ['https', 'an http: issuer', { issuerBaseURL: 'http://op.example.com', allowInsecureRequests: true }, '`issuerBaseURL` must be an https: URL'],
    ['sender-constrained tokens', 'neither dpop nor mtls', { dpop: undefined }, 'set `dpop: true`'],
    ['client authentication', 'a client secret', { clientAssertionSigningKey: undefined, clientSecret: 's' }, '`clientAuthMethod` is client_secret_basic'],
    ['algorithms', 'a PS384 request object', { requestObjectSigningAlg: 'PS384' }, '`requestObjectSigningKey` is an RSA 2048-bit key signing with PS384'],
    ['key sizes', 'an RSA 1024-bit TLS client key', { dpop: undefined, mtls: pki.rsa1024Client }, 'an RSA 1024-bit key'],
  ])('refuses, naming the rule "%s": %s', (rule, _name, change, detail) => {
    const message = refusal({ ...signing, ...change })
    expect(message).toContain(`\`profile: 'fapi2-message-signing'\` (FAPI 2.0 Message Signing, which includes the Security Profile), rule "${rule}": `)
    expect(message).toContain(detail)
  })
})

describe('responseMode', () => {
  test.each<[unknown, string]>([
    [undefined, 'query'],
    ['query', 'query'],
    ['jwt', 'jwt'],
  ])('responseMode: %j -> %s', (responseMode, mode) => {
    expect(buildConfig({ ...base, clientSecret: 's', responseMode } as AuthOptions).responseMode).toBe(mode)
  })

  test.each<[unknown, RegExp]>([
    ['query.jwt', /`responseMode` must be 'query' \(the default\) or 'jwt' \(JARM: the OP signs its authorization responses\), got "query.jwt". For JARM, set `responseMode: 'jwt'`/],
    ['JWT', /got "JWT". For JARM, set `responseMode: 'jwt'`/],
    ['form_post', /`responseMode` must be 'query' \(the default\) or 'jwt' .*, got "form_post"\.$/],
    [true, /got true/],
  ])('refuses %j', (responseMode, message) => {
    expect(refusal({ ...base, clientSecret: 's', responseMode })).toMatch(message)
  })

  test('a misspelt responseMode gets a "did you mean"', () => {
    expect(refusal({ ...base, clientSecret: 's', responseMod: 'jwt' })).toMatch(/unknown option `responseMod`. Did you mean `responseMode`\?/)
  })
})
