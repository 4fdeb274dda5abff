/**
 * Abandoned logins do not pile up in a session: they expire after PENDING_LOGIN_TTL_MS and at most
 * MAX_PENDING_LOGINS are kept. The clock is injected (`now`), so nothing waits ten minutes.
 */

import type { InstanceState } from '../../lib/session/state.js'
import { MAX_PENDING_LOGINS, PENDING_LOGIN_TTL_MS, addPendingLogin, consumePendingLogin } from '../../lib/session/pending-logins.js'

const newSession = (): InstanceState => ({})
const login = (n: number) => ({ codeVerifier: `verifier-${n}`, nonce: `nonce-${n}`, returnTo: '/' })
const T0 = 1_700_000_000_000

test('an abandoned login is dropped once a later login starts after its TTL', () => {
  const session = newSession()
  addPendingLogin(session, 'abandoned', login(1), T0)
  addPendingLogin(session, 'fresh', login(2), T0 + PENDING_LOGIN_TTL_MS + 1)
  expect(Object.keys(session.pending!)).toEqual(['fresh'])
})

test('an abandoned login is dropped when another login completes after its TTL', () => {
  const session = newSession()
  addPendingLogin(session, 'abandoned', login(1), T0)
  addPendingLogin(session, 'used', login(2), T0 + PENDING_LOGIN_TTL_MS - 1000)
  expect(consumePendingLogin(session, 'used', T0 + PENDING_LOGIN_TTL_MS + 1).status).toBe('found')
  expect(session.pending).toBeUndefined()
})

test('the callback of a login past its TTL is refused as expired, and only once', () => {
  const session = newSession()
  addPendingLogin(session, 'slow', login(1), T0)
  expect(consumePendingLogin(session, 'slow', T0 + PENDING_LOGIN_TTL_MS)).toEqual({ status: 'expired' })
  expect(consumePendingLogin(session, 'slow', T0 + PENDING_LOGIN_TTL_MS)).toEqual({ status: 'missing' })
})

test('10,000 abandoned logins in one session keep at most MAX_PENDING_LOGINS, the newest', () => {
  const session = newSession()
  for (let i = 0; i < 10_000; i++) addPendingLogin(session, `state-${i}`, login(i), T0 + i)
  const kept = Object.keys(session.pending!)
  expect(kept).toHaveLength(MAX_PENDING_LOGINS)
  expect(kept).toEqual(Array.from({ length: MAX_PENDING_LOGINS }, (_, k) => `state-${10_000 - MAX_PENDING_LOGINS + k}`))
  expect(JSON.stringify(session.pending).length).toBeLessThan(MAX_PENDING_LOGINS * 512)
})

test('a state that is an Object.prototype member is not a pending login', () => {
  const session = newSession()
  addPendingLogin(session, 'real', login(1), T0)
  for (const state of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    expect(consumePendingLogin(session, state, T0).status).toBe('missing')
  }
  expect(consumePendingLogin(session, 'real', T0).status).toBe('found')
})
