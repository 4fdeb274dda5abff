/**
 * express-session writes whole sessions, and the last writer wins: a request that loaded the
 * session before another request changed express-par's state would write the old state back when
 * it saves (because the app, or the rolling lifetime, changed something). That would resurrect a
 * login that was logged out (locally, by a back-channel logout, or when a refresh failed), put
 * back tokens a refresh replaced, and drop a pending login another tab just started.
 *
 * So a request whose session held express-par state re-reads the stored session before it saves,
 * and reconciles express-par's part, instance by instance:
 *
 * - a login it loaded that is gone or replaced in the store stays gone (logged out elsewhere);
 * - a login the store holds with a newer token generation wins (refreshed elsewhere);
 * - a pending login it loaded that the store no longer holds stays spent; one the store gained
 *   since (another tab) is kept.
 *
 * What this request itself created (a new login at the callback, a new pending login) is kept.
 * The read costs one store `get` per save, never one per request; the remaining window is the
 * store's round trip between that read and the write.
 */

import type { Request } from 'express'
import type { Store } from 'express-session'
import { pruneInstanceState, type AnySession, type InstanceState } from './state.js'

/** What one instance's state looked like when the session was loaded. */
interface Loaded {
  readonly name: string
  readonly loginId: string | undefined
  readonly pending: readonly string[]
}

type Callback = (err?: unknown) => void

function snapshot(all: Record<string, InstanceState>): Loaded[] {
  const loaded: Loaded[] = []
  for (const name of Object.keys(all)) {
    const state = all[name]!
    loaded.push({ name, loginId: state.login?.id, pending: state.pending === undefined ? [] : Object.keys(state.pending) })
  }
  return loaded
}

function readStored(store: Store, id: string): Promise<AnySession | null | undefined> {
  return new Promise((resolve, reject) => store.get(id, (err, stored) => (err ? reject(err) : resolve(stored as AnySession | null | undefined))))
}

/** Reconciles the login of one instance, see the file comment. */
function reconcileLogin(ours: InstanceState, theirs: InstanceState | undefined, loaded: Loaded): void {
  const login = ours.login
  if (loaded.loginId === undefined || login === undefined || login.id !== loaded.loginId) return // created here, or already gone
  const stored = theirs?.login
  if (stored === undefined || stored.id !== login.id) {
    delete ours.login
  } else if (stored.gen > login.gen) {
    ours.login = { ...stored, seen: Math.max(stored.seen, login.seen) }
  }
}

function reconcilePending(ours: InstanceState, theirs: InstanceState | undefined, loaded: Loaded): void {
  const stored = theirs?.pending ?? {}
  if (ours.pending !== undefined) {
    for (const state of loaded.pending) if (Object.hasOwn(ours.pending, state) && !Object.hasOwn(stored, state)) delete ours.pending[state]
    if (Object.keys(ours.pending).length === 0) delete ours.pending
  }
  for (const state of Object.keys(stored)) {
    if (loaded.pending.includes(state) || Object.hasOwn(ours.pending ?? {}, state)) continue
    ;(ours.pending ??= {})[state] = stored[state]!
  }
}

/** Brings express-par's state in `session` up to date with `stored` before it is written. */
export function reconcile(session: AnySession, stored: AnySession | null | undefined, loaded: readonly Loaded[]): void {
  const theirsAll = stored?.expressPar ?? {}
  const known = new Set<string>()
  for (const entry of loaded) {
    known.add(entry.name)
    const ours = session.expressPar?.[entry.name]
    const theirs = Object.hasOwn(theirsAll, entry.name) ? theirsAll[entry.name] : undefined
    if (ours === undefined) continue
    reconcileLogin(ours, theirs, entry)
    reconcilePending(ours, theirs, entry)
    pruneInstanceState(session, entry.name)
  }
  // An instance whose state appeared in the store since the load (its first pending login, from another tab).
  for (const name of Object.keys(theirsAll)) {
    if (known.has(name) || session.expressPar?.[name] !== undefined) continue
    const pending = theirsAll[name]!.pending
    if (pending !== undefined) ((session.expressPar ??= {})[name] = { pending })
  }
}

/**
 * Makes the saves of `req.session` reconcile first (see the file comment). Called for every
 * request whose loaded session holds express-par state (once, however many instances see it);
 * costs a snapshot of a few ids.
 */
const guarded = new WeakSet<object>()

export function guardSessionSave(req: Request): void {
  const session = req.session as AnySession
  const all = session.expressPar
  if (all === undefined || guarded.has(session)) return
  guarded.add(session)
  const loaded = snapshot(all)
  const store = req.sessionStore
  const save = session.save
  session.save = function guardedSave(this: AnySession, callback?: Callback) {
    readStored(store, this.id).then(
      (stored) => {
        reconcile(this, stored, loaded)
        save.call(this, callback)
      },
      (err: unknown) => callback?.(err),
    )
    return this
  }
}
