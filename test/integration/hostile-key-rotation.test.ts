/**
 * OP signing-key rotation (conformance: rp-key-rotation-op-sign-key, OIDCCClientTestSigningKeyRotation)
 * and the bound on JWKS fetches (lib/op/jwks.ts, the policy every JWT from the OP is verified under).
 *
 * The JWKS is fetched on the first callback and again once 300 s old. An ID token whose key is not
 * in it triggers one refetch at once, so a rotated key works on the very next login, even right
 * after a fetch; further unknown `kid`s cause at most one refetch per 30 s, so tokens with made-up
 * `kid`s cannot make the app hammer the OP's jwks_uri. Time is moved by replacing `Date.now`.
 */

import { PATHS, startHostileStack, type HostileStack } from '../support/hostile-stack.js'
import { storedAuth } from '../support/session-store.js'

let stack: HostileStack
const realNow = Date.now

function advanceClock(seconds: number): void {
  const offset = Date.now() - realNow() + seconds * 1000
  Date.now = () => realNow() + offset
}

beforeEach(async () => {
  stack = await startHostileStack()
})
afterEach(async () => {
  Date.now = realNow
  await stack.close()
})

async function login(): Promise<{ status: number; code: string | undefined }> {
  const browser = stack.browser()
  const page = await stack.login(browser)
  return { status: page.status, code: page.status === 302 ? undefined : (JSON.parse(page.body) as { code: string }).code }
}

const accepted = { status: 302, code: undefined }
const refused = { status: 502, code: 'ERR_ID_TOKEN_INVALID' }

async function rotate(): Promise<void> {
  const rotated = await stack.op.newKey('RS256', `key-${Math.random().toString(36).slice(2)}`)
  stack.op.signingKey = rotated
  stack.op.published = [rotated]
}

async function signWithUnknownKids(): Promise<void> {
  const stranger = await stack.op.newKey('RS256', 'unknown')
  let i = 0
  stack.op.bend.idToken = (c) => c.sign(c.claims, { key: stranger, header: { kid: `unknown-${i++}` } })
}

test('a key rotated right after a JWKS fetch is accepted on the very next login, with one refetch', async () => {
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(1)
  await rotate()
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})

test('logins arriving together after a rotation share one refetch', async () => {
  expect(await login()).toEqual(accepted)
  await rotate()
  expect(await Promise.all(Array.from({ length: 6 }, login))).toEqual(Array(6).fill(accepted))
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})

test('the old and the new key published side by side (rotation with overlap): no refresh needed', async () => {
  const next = await stack.op.newKey('RS256', 'key-2')
  stack.op.published = [stack.op.signingKey, next]
  expect(await login()).toEqual(accepted)
  stack.op.signingKey = next
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(1)
})

test('unknown kids are not a JWKS-fetch amplifier: one refetch at once, then at most one per 30 s', async () => {
  expect(await login()).toEqual(accepted)
  await signWithUnknownKids()
  for (let i = 0; i < 5; i++) expect(await login()).toEqual(refused)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  advanceClock(29)
  expect(await login()).toEqual(refused)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  advanceClock(2)
  expect(await login()).toEqual(refused)
  expect(await login()).toEqual(refused)
  expect(stack.op.count(PATHS.jwks)).toBe(3)
  expect((await stack.sessions()).filter((s) => storedAuth(s)).length).toBe(1) // only the first, valid login
})

test('unknown kids arriving together cause one refetch', async () => {
  expect(await login()).toEqual(accepted)
  await signWithUnknownKids()
  expect(await Promise.all(Array.from({ length: 6 }, login))).toEqual(Array(6).fill(refused))
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})

test('a rotation within 30 s of a refetch for an unknown kid waits out the 30 s (documented limit)', async () => {
  expect(await login()).toEqual(accepted)
  await signWithUnknownKids()
  expect(await login()).toEqual(refused)
  stack.op.bend = {}
  await rotate()
  expect(await login()).toEqual(refused)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  advanceClock(31)
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(3)
})

test('a cached JWKS older than 300 s is fetched again before use', async () => {
  expect(await login()).toEqual(accepted)
  advanceClock(301)
  expect(await login()).toEqual(accepted)
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})
