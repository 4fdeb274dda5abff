/**
 * OP signing-key rotation (conformance: rp-key-rotation-op-sign-key, OIDCCClientTestSigningKeyRotation).
 *
 * openid-client caches the OP's JWKS per discovered configuration. On an ID token whose key is not
 * in the cache it fetches the JWKS again, but only if the cached copy is at least 60 s old, and
 * it drops a copy older than 300 s. So a rotated key is picked up with one bounded refresh, and a
 * stream of tokens with unknown `kid`s cannot make the app hammer the OP's jwks_uri.
 * Time is moved by replacing `Date.now`, which oauth4webapi reads for the cache age.
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

test('a rotated key is picked up with exactly one JWKS refresh once the cached copy is 60 s old', async () => {
  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(1)

  const rotated = await stack.op.newKey('RS256', 'key-2')
  stack.op.signingKey = rotated
  stack.op.published = [rotated]
  advanceClock(61)

  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})

test('the old and the new key published side by side (rotation with overlap): no refresh needed', async () => {
  const next = await stack.op.newKey('RS256', 'key-2')
  stack.op.published = [stack.op.signingKey, next]
  expect(await login()).toEqual({ status: 302, code: undefined })
  stack.op.signingKey = next
  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(1)
})

test('unknown kids are not a JWKS-fetch amplifier: at most one refresh per 60 s', async () => {
  expect(await login()).toEqual({ status: 302, code: undefined })
  advanceClock(61)
  const stranger = await stack.op.newKey('RS256', 'unknown')
  for (let i = 0; i < 5; i++) {
    stack.op.bend.idToken = (c) => c.sign(c.claims, { key: stranger, header: { kid: `unknown-${i}` } })
    expect(await login()).toEqual({ status: 502, code: 'ERR_ID_TOKEN_INVALID' })
  }
  expect(stack.op.count(PATHS.jwks)).toBe(2)
  expect(await stack.anyLoggedIn()).toBe(true) // only the first, valid login
  expect((await stack.sessions()).filter((s) => storedAuth(s)).length).toBe(1)
})

test('a key rotated within 60 s of the last JWKS fetch is refused until the cache may refresh (documented limit)', async () => {
  expect(await login()).toEqual({ status: 302, code: undefined })
  const rotated = await stack.op.newKey('RS256', 'key-2')
  stack.op.signingKey = rotated
  stack.op.published = [rotated]
  advanceClock(30)
  expect(await login()).toEqual({ status: 502, code: 'ERR_ID_TOKEN_INVALID' })
  advanceClock(31)
  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})

test('a cached JWKS older than 300 s is fetched again before use', async () => {
  expect(await login()).toEqual({ status: 302, code: undefined })
  advanceClock(301)
  expect(await login()).toEqual({ status: 302, code: undefined })
  expect(stack.op.count(PATHS.jwks)).toBe(2)
})
