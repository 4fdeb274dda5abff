import { generateKeyPairSync } from 'node:crypto'
import { createClientAuthentication, resolveClientAuth } from '../../lib/op/client-auth.js'
import { ExpressParError } from '../../lib/errors.js'
import { loadSigningKey } from '../../lib/op/keys.js'
import { checkRequestObjects } from '../../lib/op/request-object.js'

// What discovery checks once the OP's metadata is known (the integration tests show the same
// errors reaching the app at the first login).
const issuer = 'https://op.example.com'
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

async function rejection(promise: Promise<unknown>): Promise<ExpressParError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(ExpressParError)
  expect((err as ExpressParError).code).toBe('ERR_CONFIG_INVALID')
  return err as ExpressParError
}

describe('client authentication against the OP metadata', () => {
  const check = (options: Record<string, unknown>, server: Record<string, unknown>) =>
    createClientAuthentication(resolveClientAuth({ clientSecret: 'secret', ...options })).check({ issuer, ...server })

  test.each<[string, Record<string, unknown>, Record<string, unknown>, RegExp]>([
    ['a method the OP does not list', { clientAuthMethod: 'client_secret_jwt' }, { token_endpoint_auth_methods_supported: ['client_secret_basic'] }, /`clientAuthMethod` is client_secret_jwt, but the OP at https:\/\/op.example.com accepts only client_secret_basic/],
    ['client_secret_jwt where the OP has no HS256', { clientAuthMethod: 'client_secret_jwt' }, { token_endpoint_auth_signing_alg_values_supported: ['PS256'] }, /client_secret_jwt signs with HS256, but the OP .* accepts only PS256/],
    ['a private_key_jwt key of an algorithm the OP does not list', { clientAssertionSigningKey: ec }, { token_endpoint_auth_signing_alg_values_supported: ['PS256', 'EdDSA'] }, /`clientAssertionSigningKey` is an EC P-256 key signing with ES256, but the OP .* accepts only PS256, EdDSA \(token_endpoint_auth_signing_alg_values_supported\)/],
  ])('refuses %s', async (_name, options, server, message) => {
    expect((await rejection(check(options, server))).message).toMatch(message)
  })

  test.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    ['an OP that lists nothing (defaults apply)', { clientAuthMethod: 'client_secret_post' }, {}],
    ['private_key_jwt with an algorithm the OP lists', { clientAssertionSigningKey: ec }, { token_endpoint_auth_methods_supported: ['private_key_jwt'], token_endpoint_auth_signing_alg_values_supported: ['ES256'] }],
    ['client_secret_jwt with HS256 listed', { clientAuthMethod: 'client_secret_jwt' }, { token_endpoint_auth_signing_alg_values_supported: ['HS256'] }],
  ])('accepts %s', async (_name, options, server) => {
    await expect(check(options, server)).resolves.toBeUndefined()
  })
})

describe('request objects against the OP metadata', () => {
  const key = loadSigningKey(ec, { option: 'requestObjectSigningKey', algOption: 'requestObjectSigningAlg' })

  test('an OP that requires signed request objects needs requestObjectSigningKey', async () => {
    const err = await rejection(checkRequestObjects(undefined, { issuer, require_signed_request_object: true }))
    expect(err.message).toMatch(/requires signed request objects .* set `requestObjectSigningKey`/)
  })

  test('a key the OP cannot accept names both sides', async () => {
    const err = await rejection(checkRequestObjects(key, { issuer, request_object_signing_alg_values_supported: ['RS256'] }))
    expect(err.message).toMatch(/`requestObjectSigningKey` is an EC P-256 key signing with ES256, but the OP .* accepts only RS256/)
  })

  test('JAR off with an OP that does not require it, and a key the OP accepts, pass', async () => {
    await expect(checkRequestObjects(undefined, { issuer, require_signed_request_object: false })).resolves.toBeUndefined()
    await expect(checkRequestObjects(key, { issuer, require_signed_request_object: true, request_object_signing_alg_values_supported: ['ES256'] })).resolves.toBeUndefined()
  })
})
