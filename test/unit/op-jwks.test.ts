/**
 * lib/op/jwks.ts as the later features will use it: `jwtVerify(token, jwks.key, ...)` from a
 * public route (back-channel logout) that anyone can send tokens with made-up `kid`s to. The OP's
 * jwks_uri is a function here, counting its requests; time moves by replacing `Date.now`.
 */

import { SignJWT, errors, exportJWK, generateKeyPair, jwtVerify, type CryptoKey, type JWK } from 'jose'
import type { OpFetch } from '../../lib/op/http.js'
import { JwksResponseInvalid, createOpJwks } from '../../lib/op/jwks.js'

interface Key {
  kid: string
  privateKey: CryptoKey
  jwk: JWK
}

async function newKey(kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } }
}

const realNow = Date.now
afterEach(() => {
  Date.now = realNow
})
function advanceClock(seconds: number): void {
  const offset = Date.now() - realNow() + seconds * 1000
  Date.now = () => realNow() + offset
}

function opServing(initial: Key[]) {
  const op = { published: initial, fetches: 0, answer: undefined as (() => Response) | undefined }
  const fetch: OpFetch = async () => {
    op.fetches++
    await new Promise((resolve) => setTimeout(resolve, 5))
    return op.answer?.() ?? Response.json({ keys: op.published.map((k) => k.jwk) })
  }
  const jwks = createOpJwks({ fetch, jwksUri: async () => 'https://op.example/jwks' })
  return { op, jwks }
}

/** Signs with `key` under its own kid, another, or none (`null`). */
const sign = (key: Key, kid: string | null = key.kid) =>
  new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', ...(kid !== null && { kid }) }).setIssuedAt().sign(key.privateKey)

test('fetched on first use, then reused', async () => {
  const key = await newKey('k1')
  const { op, jwks } = opServing([key])
  for (let i = 0; i < 3; i++) await jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })
  expect(op.fetches).toBe(1)
})

test('a key rotated in right after a fetch verifies at once, with one refetch', async () => {
  const [old, rotated] = [await newKey('k1'), await newKey('k2')]
  const { op, jwks } = opServing([old])
  await jwtVerify(await sign(old), jwks.key, { algorithms: ['ES256'] })
  op.published = [rotated]
  await jwtVerify(await sign(rotated), jwks.key, { algorithms: ['ES256'] })
  expect(op.fetches).toBe(2)
})

test('a flood of made-up kids: one refetch at once, then at most one per 30 s', async () => {
  const [real, forger] = [await newKey('k1'), await newKey('x')]
  const { op, jwks } = opServing([real])
  await jwtVerify(await sign(real), jwks.key, { algorithms: ['ES256'] })
  for (let i = 0; i < 100; i++) {
    await expect(jwtVerify(await sign(forger, `made-up-${i}`), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
  }
  expect(op.fetches).toBe(2)
  advanceClock(29)
  await expect(jwtVerify(await sign(forger, 'later'), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
  expect(op.fetches).toBe(2)
  advanceClock(2)
  await expect(jwtVerify(await sign(forger, 'later-still'), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey)
  expect(op.fetches).toBe(3)
  await jwtVerify(await sign(real), jwks.key, { algorithms: ['ES256'] }) // the real key still works throughout
})

test('concurrent tokens share one fetch, the first and the refetch alike', async () => {
  const [real, forger] = [await newKey('k1'), await newKey('x')]
  const { op, jwks } = opServing([real])
  await Promise.all(Array.from({ length: 20 }, async () => jwtVerify(await sign(real), jwks.key, { algorithms: ['ES256'] })))
  expect(op.fetches).toBe(1)
  const results = await Promise.allSettled(Array.from({ length: 20 }, async (_, i) => jwtVerify(await sign(forger, `made-up-${i}`), jwks.key, { algorithms: ['ES256'] })))
  expect(results.every((r) => r.status === 'rejected')).toBe(true)
  expect(op.fetches).toBe(2)
})

test('no kid and several keys that fit: refused (jose: JWKSMultipleMatchingKeys), no refetch', async () => {
  const [a, b] = [await newKey('a'), await newKey('b')]
  const { op, jwks } = opServing([a, b])
  await expect(jwtVerify(await sign(a, null), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(errors.JWKSMultipleMatchingKeys)
  expect(op.fetches).toBe(1)
})

test('a copy older than 300 s is fetched again before use', async () => {
  const key = await newKey('k1')
  const { op, jwks } = opServing([key])
  await jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })
  advanceClock(301)
  await jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })
  expect(op.fetches).toBe(2)
})

test('a failing jwks_uri is not asked on every token: repeated failures are held back', async () => {
  const key = await newKey('k1')
  const { op, jwks } = opServing([key])
  op.answer = () => new Response('down', { status: 503 })
  for (let i = 0; i < 50; i++) await expect(jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(JwksResponseInvalid)
  expect(op.fetches).toBeLessThanOrEqual(3)
  op.answer = undefined
  advanceClock(3)
  await jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })
})

test.each([
  ['HTTP 500', () => new Response('{}', { status: 500, headers: { 'content-type': 'application/json' } })],
  ['not JSON', () => new Response('keys', { headers: { 'content-type': 'application/json' } })],
  ['text/html', () => new Response('{"keys":[]}', { headers: { 'content-type': 'text/html' } })],
  ['no keys array', () => Response.json({ keys: {} })],
])('a jwks_uri answering %s is JwksResponseInvalid', async (_name, answer) => {
  const key = await newKey('k1')
  const { op, jwks } = opServing([key])
  op.answer = answer
  await expect(jwtVerify(await sign(key), jwks.key, { algorithms: ['ES256'] })).rejects.toBeInstanceOf(JwksResponseInvalid)
})
