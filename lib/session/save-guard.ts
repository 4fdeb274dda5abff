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
 * The read costs one store `get` per save, never one per request. Within a process the guarded
 * saves of one session, and back-channel logouts of it, take turns (write-order.ts), so read and
 * write are one step; across instances the remaining window is the store's round trip between
 * the read and the write.
 */

import type { Request } from 'express'
import type { Store } from 'express-session'
import { parError } from '../errors.js'
import { ensureInstanceState, pruneInstanceState, type AnySession, type InstanceState } from './state.js'
import { inWriteOrder } from './write-order.js'

/**
 * What one instance's state looked like when the session was loaded. Classes rather than object
 * literals here and in {@link Guard}: made on every request that carries a login and holding that
 * request's strings, literals would be pretenured by V8 and keep them alive (request-scope.ts).
 */
class Loaded {
  constructor(
    readonly name: string,
    readonly loginId: string | undefined,
    readonly pending: readonly string[],
  ) {}
}

const NOTHING_PENDING: readonly string[] = Object.freeze([])

type Callback = (err?: unknown) => void

function snapshot(all: Record<string, InstanceState>): Loaded[] {
  const names = Object.keys(all)
  const loaded = new Array<Loaded>(names.length)
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    const state = all[name]!
    loaded[i] = new Loaded(name, state.login?.id, state.pending === undefined ? NOTHING_PENDING : Object.keys(state.pending))
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
  const names = new Set([...loaded.map((entry) => entry.name), ...Object.keys(session.expressPar ?? {}), ...Object.keys(theirsAll)])
  for (const name of names) {
    const entry = loaded.find((candidate) => candidate.name === name) ?? new Loaded(name, undefined, NOTHING_PENDING)
    const ours = ensureInstanceState(session, name)
    const theirs = Object.hasOwn(theirsAll, name) ? theirsAll[name] : undefined
    reconcileLogin(ours, theirs, entry)
    reconcilePending(ours, theirs, entry)
    pruneInstanceState(session, name)
  }
}

/**
 * What a guarded session looked like when loaded, and under which id: a non-enumerable,
 * symbol-keyed property of the session (see request-scope.ts on why not a WeakMap). JSON, and so
 * every store, leaves it out; a copy of the session (`{ ...req.session }`) does not carry it.
 */
const GUARD = Symbol('express-par.saveGuard')

class Guard {
  constructor(
    /** The session id it was loaded under: a copy written under another id is not reconciled with this snapshot. */
    readonly id: string,
    readonly loaded: readonly Loaded[],
  ) {}
}

type Guarded = AnySession & { [GUARD]?: Guard }

/** The guard of `session` for a write under `id`, if it has one. */
function guardOf(session: Guarded | null | undefined, id: string): Guard | undefined {
  const guard = session?.[GUARD]
  return guard !== undefined && guard.id === id ? guard : undefined
}

type StoreSet = (this: Store, sid: string, session: AnySession, callback?: Callback) => unknown

/**
 * Re-reads the stored session, reconciles (file comment), then writes it with the store's own
 * `set`. Resolves once written; failures (of the read, the reconciliation or the write, thrown or
 * called back) go to `callback`, so the queue never rejects.
 */
function guardedSet(store: Store, set: StoreSet, id: string, session: Guarded, guard: Guard, callback: Callback | undefined): Promise<void> {
  return inWriteOrder(id, async () => {
    try {
      reconcile(session, await readStored(store, id), guard.loaded)
      await new Promise<void>((resolve, reject) => {
        writing = session
        try {
          set.call(store, id, session, (err?: unknown) => (err ? reject(err) : resolve()))
        } finally {
          writing = undefined
        }
      })
    } catch (err) {
      callback?.(err)
      return
    }
    callback?.()
  })
}

/**
 * Every guarded `set` made, and the store it writes to: a store whose `set` is not one of these
 * (never wrapped, or replaced since) is wrapped, one whose own guarded `set` is back in place is not.
 */
const guardedSets = new WeakMap<StoreSet, Store>()
/**
 * The session a guarded write is handing to the store's own `set` right now: when that `set` is
 * an instrumentation wrapped around an earlier guarded `set`, the inner one passes it through
 * rather than queueing behind the write it is part of.
 */
let writing: object | undefined

/**
 * Wraps `set` of the session store (once, unless something replaces it), so that guarding a
 * session costs one property, not a closure per request; a session without a guard is written by
 * the store's own `set`, after one property read. The store, not the session's `save`, is wrapped
 * because express-session gives every session its own `save`, bound to the prototype's when the
 * session was made, and because every save, however started, ends in `store.set(id, session)`.
 *
 * express-session records the session's hash before it calls `set`, so when the reconciliation
 * changes the session (something changed it elsewhere), express-session saves it once more at the
 * end of the request: one more store round trip, never a lost change.
 */
function guardStoreWrites(store: Store): void {
  const set = store.set as StoreSet
  if (guardedSets.get(set) === store) return
  const guardedSetOfStore: StoreSet = function setThroughGuard(sid, session, callback) {
    const guard = guardOf(session, sid)
    if (guard === undefined || writing === session) return set.call(store, sid, session, callback)
    return guardedSet(store, set, sid, session as Guarded, guard, callback)
  }
  try {
    Object.defineProperty(store, 'set', { configurable: true, writable: true, enumerable: false, value: guardedSetOfStore })
  } catch (err) {
    throw parError(
      'ERR_CONFIG_INVALID',
      "express-par could not wrap the session store's set() (is the store frozen?): it re-reads a session before each save, so that a logout elsewhere is not undone. Pass express-session a store that is not frozen.",
      { cause: err },
    )
  }
  guardedSets.set(guardedSetOfStore, store)
}

/**
 * Makes the saves of `req.session` reconcile first (see the file comment). Called for every
 * request whose loaded session holds express-par state (once, however many instances see it),
 * and by `/login` for any session that came with the request; costs a snapshot of a few ids.
 */
export function guardSessionSave(req: Request): void {
  const session = req.session as Guarded
  if (session[GUARD] !== undefined) return
  guardStoreWrites(req.sessionStore)
  const guard = new Guard(session.id, snapshot(session.expressPar ?? {}))
  Object.defineProperty(session, GUARD, { value: guard, configurable: true, enumerable: false, writable: false })
}

/**
 * Reconciles express-par's state in `req.session` with the stored session now, without saving:
 * for a step that is about to act on the state it loaded (the callback carrying the other
 * instances' logins into a new session id, after the token request). Nothing for a session the
 * guard does not watch.
 */
export async function refreshFromStore(req: Request): Promise<void> {
  const session = req.session as Guarded
  const guard = guardOf(session, session.id)
  if (guard === undefined) return
  let stored: AnySession | null | undefined
  try {
    stored = await readStored(req.sessionStore, session.id)
  } catch (err) {
    throw parError('ERR_SESSION_STORE', 'The session store failed to read the session. Check the store (e.g. Redis) is reachable; nothing was logged in.', { cause: err })
  }
  reconcile(session, stored, guard.loaded)
}

/**
 * Whether the request brought its session (its cookie names `req.sessionID`), rather than
 * express-session having made a new one: only a stored session can have been changed elsewhere.
 */
export function cameWithRequest(req: Request): boolean {
  const cookies = req.headers.cookie
  return cookies !== undefined && cookies.includes(encodeURIComponent(`s:${req.sessionID}.`))
}
