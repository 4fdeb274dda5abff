/** The save guard's reconciliation of express-par's state with the stored session (save-guard.ts). */

import { reconcile } from '../../lib/session/save-guard.js'
import type { AnySession, Login } from '../../lib/session/state.js'

const login = (id: string, gen = 0, seen = 100): Login => ({ auth: { idToken: `id-${id}-${gen}`, claims: { sub: 'alice' } }, id, at: 100, seen, gen })
const pending = (r: string) => ({ v: 'v', n: 'n', r, e: Date.now() + 60_000 })
const session = (expressPar: AnySession['expressPar']) => ({ expressPar }) as AnySession

test('a login loaded here that the store no longer holds stays gone (logged out elsewhere)', () => {
  const ours = session({ default: { login: login('a') } })
  reconcile(ours, session({}), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar).toBeUndefined()
})

test('a login the session was destroyed under stays gone', () => {
  const ours = session({ default: { login: login('a') }, staff: { login: login('s') } })
  reconcile(ours, null, [
    { name: 'default', loginId: 'a', pending: [] },
    { name: 'staff', loginId: 's', pending: [] },
  ])
  expect(ours.expressPar).toBeUndefined()
})

test('a login replaced by another login in the store is not written back', () => {
  const ours = session({ default: { login: login('a') } })
  reconcile(ours, session({ default: { login: login('b') } }), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar).toBeUndefined()
})

test('a newer token generation in the store wins, keeping the later "seen"', () => {
  const ours = session({ default: { login: login('a', 0, 500) } })
  reconcile(ours, session({ default: { login: login('a', 2, 300) } }), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar!.default!.login).toEqual({ ...login('a', 2), seen: 500 })
})

test('an older generation in the store does not replace ours', () => {
  const ours = session({ default: { login: login('a', 3) } })
  reconcile(ours, session({ default: { login: login('a', 1) } }), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar!.default!.login!.gen).toBe(3)
})

test('a login created by this request (not loaded) is kept whatever the store says', () => {
  const ours = session({ default: { login: login('new') } })
  reconcile(ours, null, [])
  expect(ours.expressPar!.default!.login!.id).toBe('new')
})

test('a login removed by this request is not brought back from the store', () => {
  const ours = session({})
  reconcile(ours, session({ default: { login: login('a') } }), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar).toBeUndefined()
})

test('pending logins: spent elsewhere stay spent, started elsewhere are kept, our own new ones stay', () => {
  const ours = session({ default: { pending: { spent: pending('/s'), ours: pending('/o') } } })
  const stored = session({ default: { pending: { other: pending('/x') } }, staff: { pending: { staffTab: pending('/t') } } })
  reconcile(ours, stored, [{ name: 'default', loginId: undefined, pending: ['spent'] }])
  expect(Object.keys(ours.expressPar!.default!.pending!).sort()).toEqual(['other', 'ours'])
  expect(Object.keys(ours.expressPar!.staff!.pending!)).toEqual(['staffTab'])
})

test('a pending login consumed here is not brought back from the store', () => {
  const ours = session({})
  reconcile(ours, session({ default: { pending: { used: pending('/u') } } }), [{ name: 'default', loginId: undefined, pending: ['used'] }])
  expect(ours.expressPar).toBeUndefined()
})

test("another instance's login in the store is never copied into a session that did not load it", () => {
  const ours = session({ default: { login: login('a') } })
  reconcile(ours, session({ default: { login: login('a') }, staff: { login: login('s') } }), [{ name: 'default', loginId: 'a', pending: [] }])
  expect(ours.expressPar!.staff).toBeUndefined()
})
