/**
 * A back-channel logout's removal of one instance's login from a stored session
 * (session/stored-logout.ts), with a store that hands back the very object it was given, as a
 * store keeping sessions in a Map by reference does: the object still carries the save guard of
 * the request that saved it.
 */

import type { Request } from 'express'
import { Store, type SessionData } from 'express-session'
import { guardSessionSave } from '../../lib/session/save-guard.js'
import type { AnySession, Login } from '../../lib/session/state.js'
import { endStoredLogin } from '../../lib/session/stored-logout.js'

/** Keeps the objects it is given, and hands the same ones back. */
class ByReferenceStore extends Store {
  readonly sessions = new Map<string, SessionData>()
  override get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    setImmediate(() => callback(null, this.sessions.get(sid) ?? null))
  }
  override set(sid: string, session: SessionData, callback?: (err?: unknown) => void): void {
    this.sessions.set(sid, session)
    setImmediate(() => callback?.())
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.sessions.delete(sid)
    setImmediate(() => callback?.())
  }
}

const login = (id: string, sid: string): Login => ({ auth: { idToken: `id-${id}`, claims: { sub: 'alice' } }, id, at: 100, seen: 100, gen: 0, opSession: { iss: 'https://op.example', sub: 'alice', sid } })

const within = <T>(promise: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([promise, new Promise<'timed out'>((resolve) => setTimeout(() => resolve('timed out'), ms).unref())])

test("ending one instance's login in a session another instance is still logged in to writes the rest back, without waiting on itself", async () => {
  const store = new ByReferenceStore()
  const session = { id: 'sid-1', cookie: {}, expressPar: { default: { login: login('a', 'op-1') }, staff: { login: login('s', 'op-2') } } } as unknown as AnySession
  store.sessions.set('sid-1', session as SessionData)
  // A request loaded this session and saved it: the stored object now carries its save guard.
  guardSessionSave({ session, sessionStore: store } as unknown as Request)
  await new Promise<void>((resolve, reject) => store.set('sid-1', session as SessionData, (err) => (err ? reject(err) : resolve())))

  expect(await within(endStoredLogin(store, 'sid-1', 'default', { sid: 'op-1' }), 2000)).toBe(true)
  const stored = store.sessions.get('sid-1') as AnySession
  expect(stored.expressPar?.default).toBeUndefined()
  expect(stored.expressPar?.staff?.login?.id).toBe('s')
})
