import type { InstanceState } from '../../lib/session/state.js'
import {
  addPendingLogin,
  consumePendingLogin,
  MAX_PENDING_LOGINS,
  PENDING_LOGIN_TTL_MS,
  remainingPendingLogins,
} from '../../lib/session/pending-logins.js'

const newSession = (): InstanceState => ({})
const login = (n: number) => ({ codeVerifier: `verifier-${n}`, nonce: `nonce-${n}`, returnTo: `/page-${n}` })

describe('pending logins', () => {
  test('are found once by their state, then gone', () => {
    const session = newSession()
    addPendingLogin(session, 'state-1', login(1), 1000)
    expect(consumePendingLogin(session, 'state-1', 2000)).toEqual({
      status: 'found',
      login: { v: 'verifier-1', n: 'nonce-1', r: '/page-1', e: 1000 + PENDING_LOGIN_TTL_MS },
    })
    expect(consumePendingLogin(session, 'state-1', 2000)).toEqual({ status: 'missing' })
    expect(session.pending).toBeUndefined()
  })

  test('several are pending at once and complete in any order', () => {
    const session = newSession()
    addPendingLogin(session, 'a', login(1), 1000)
    addPendingLogin(session, 'b', login(2), 1001)
    expect(consumePendingLogin(session, 'b', 1500)).toMatchObject({ status: 'found', login: { n: 'nonce-2' } })
    expect(remainingPendingLogins(session)).toEqual({ a: expect.objectContaining({ n: 'nonce-1' }) })
    expect(consumePendingLogin(session, 'a', 1500)).toMatchObject({ status: 'found', login: { n: 'nonce-1' } })
  })

  test('an unknown state is missing, even one named like an Object property', () => {
    const session = newSession()
    addPendingLogin(session, 'a', login(1), 1000)
    expect(consumePendingLogin(session, 'b', 1000)).toEqual({ status: 'missing' })
    expect(consumePendingLogin(session, 'constructor', 1000)).toEqual({ status: 'missing' })
    expect(consumePendingLogin(session, '__proto__', 1000)).toEqual({ status: 'missing' })
    expect(consumePendingLogin(newSession(), 'a', 1000)).toEqual({ status: 'missing' })
  })

  test('expire after the TTL, and are still consumed', () => {
    const session = newSession()
    addPendingLogin(session, 'a', login(1), 0)
    expect(consumePendingLogin(session, 'a', PENDING_LOGIN_TTL_MS + 1)).toEqual({ status: 'expired' })
    expect(consumePendingLogin(session, 'a', PENDING_LOGIN_TTL_MS + 1)).toEqual({ status: 'missing' })
  })

  test('abandoned ones are dropped when a new one starts', () => {
    const session = newSession()
    addPendingLogin(session, 'old', login(1), 0)
    addPendingLogin(session, 'new', login(2), PENDING_LOGIN_TTL_MS + 1)
    expect(Object.keys(session.pending!)).toEqual(['new'])
  })

  test(`are capped at ${MAX_PENDING_LOGINS} per session, the oldest going first`, () => {
    const session = newSession()
    for (let i = 0; i < MAX_PENDING_LOGINS + 3; i++) addPendingLogin(session, `s${i}`, login(i), 1000 + i)
    const states = Object.keys(session.pending!)
    expect(states).toHaveLength(MAX_PENDING_LOGINS)
    expect(states).not.toContain('s0')
    expect(states).toContain(`s${MAX_PENDING_LOGINS + 2}`)
  })

  test('are small, plain JSON', () => {
    const session = newSession()
    addPendingLogin(session, 'x'.repeat(43), { codeVerifier: 'v'.repeat(43), nonce: 'n'.repeat(43), returnTo: '/profile' })
    const json = JSON.stringify(session.pending)
    expect(JSON.parse(json)).toEqual(session.pending)
    expect(json.length).toBeLessThan(512)
  })
})
