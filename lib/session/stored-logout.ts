/**
 * Ending a login in a session that is not the request's own (back-channel logout): load it from
 * express-session's store by id, check that this instance's login in it is the one the logout
 * token names, remove that login only (another instance's login in the same session stays), and
 * write the session back, or destroy it when no other instance has a login left (as a local
 * logout does).
 *
 * A request of that session already in flight does not bring the login back when it saves: the
 * save guard (save-guard.ts) re-reads the stored session first and keeps a removed login removed.
 * Within a process the two take turns (write-order.ts): the removal never reads the session while
 * a guarded save of it is between its own read and write, which would write the login back.
 */

import type { SessionData, Store } from 'express-session'
import { othersLoggedIn, removeLogin, storedLogin, type AnySession, type Login } from './state.js'
import { destroyStoredSession, readStoredSession, writeStoredSession } from './store-calls.js'
import { inWriteOrder } from './write-order.js'

/** What a logout token names: `sid`, `sub`, or both (then both must match). */
export interface LogoutSubject {
  sid?: string
  sub?: string
}

/** Whether `login` is one `subject` ends. Without `opSession` (indexed before it was recorded) nothing matches. */
export function loginMatches(login: Login, subject: LogoutSubject): boolean {
  const known = login.opSession
  if (known === undefined) return false
  if (subject.sid !== undefined && known.sid !== subject.sid) return false
  if (subject.sub !== undefined && known.sub !== subject.sub) return false
  return subject.sid !== undefined || subject.sub !== undefined
}

/** Ends instance `name`'s login in the stored session `id` if it matches `subject`. Resolves to whether it ended one. */
export function endStoredLogin(store: Store, id: string, name: string, subject: LogoutSubject): Promise<boolean> {
  return inWriteOrder(id, async () => {
    const session = (await readStoredSession(store, id)) as AnySession | null | undefined
    if (!session) return false
    const login = storedLogin(session, name)
    if (login === undefined || !loginMatches(login, subject)) return false
    if (othersLoggedIn(session, name)) {
      removeLogin(session, name)
      // A copy: a store that hands back the objects it was given returns the session of the
      // request that saved it, save guard included, and a guarded write would wait for this step.
      await writeStoredSession(store, id, { ...session } as SessionData)
    } else {
      await destroyStoredSession(store, id)
    }
    return true
  })
}
