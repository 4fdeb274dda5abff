/**
 * Per-request state kept on `req.session` (the request's scope, request-scope.ts) must outlive the
 * session object: express-session replaces `req.session` when the app (or express-par) calls
 * `regenerate()` or `reload()`, and deletes it on `destroy()`. This file makes a property follow:
 *
 * - `regenerate()` ends in the store's `generate(req)`, `reload()` (and the first load) in its
 *   `createSession(req, data)`: both are wrapped once per store and copy the property from the
 *   session they replace to the new one;
 * - `destroy()` (a method of express-session's `Session.prototype`) is wrapped once per prototype
 *   and moves the property onto `req` before the session goes.
 *
 * Why on the session and not on `req` in the first place: every Express `req` has a hidden class
 * of its own, so adding a property to it copies its descriptors (about 1.5 KB and several µs per
 * request, bench/PROFILE.md); sessions share theirs, and the same addition costs next to nothing.
 */

import type { Request } from 'express'
import type { Session, Store } from 'express-session'
import { parError } from '../errors.js'

type Holder = Record<symbol, unknown>
type Generate = (req: Request) => void
type CreateSession = (req: Request, data: unknown) => Session
type Destroy = (this: Session, callback?: (err?: unknown) => void) => unknown

/** On each wrapper: the object (store or prototype) it was installed on, so a replaced one is wrapped again. */
const INSTALLED_ON = Symbol('express-par.carryOver')
type Marked = { [INSTALLED_ON]?: object }

const define = (target: object, key: symbol, value: unknown): void =>
  void Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: false })

/** The property `key` of `req`'s session, or of `req` once the session was destroyed. */
export function carriedValue(req: { session?: object }, key: symbol): unknown {
  const session = req.session as Holder | undefined
  const value = session?.[key]
  return value !== undefined ? value : (req as Holder)[key]
}

/** Sets `key` on `req`'s session (on `req` when it has none), non-enumerable: JSON, stores and copies leave it out. */
export function setCarried(req: { session?: object }, key: symbol, value: unknown): void {
  define(req.session ?? req, key, value)
}

/** The properties that follow the session: each module that keeps one registers it once, with {@link carriedOnSession}. */
const carriedKeys: symbol[] = []

/** Registers `key` as a property that follows the session (call once, where the key is made). */
export function carriedOnSession(key: symbol): symbol {
  carriedKeys.push(key)
  return key
}

/**
 * Runs `replace` (which replaces `req.session`), then puts the carried properties on the new
 * session. On a session's first load (every request) there is no session yet and nothing to copy;
 * what a destroyed session left on `req` stays there, where {@link carriedValue} finds it.
 */
function copyAcross(req: Request, replace: () => unknown): unknown {
  if (req.session === undefined) return replace()
  let values: Array<readonly [symbol, unknown]> | undefined
  for (const key of carriedKeys) {
    const value = carriedValue(req, key)
    if (value !== undefined) (values ??= []).push([key, value])
  }
  const result = replace()
  const session = req.session as unknown as Holder | undefined
  if (values !== undefined && session !== undefined) for (const [key, value] of values) if (session[key] === undefined) setCarried(req, key, value)
  return result
}

/** `install`, with a frozen target turned into an error that says what to change. */
function installing(what: string, install: () => void): void {
  try {
    install()
  } catch (err) {
    throw parError('ERR_CONFIG_INVALID', `express-par could not wrap ${what} (is it frozen?): it keeps the request's auth() scope on the session across regenerate(), reload() and destroy(). Pass express-session a store (and use an express-session) that is not frozen.`, { cause: err })
  }
}

function wrapStore(store: Store): void {
  const target = store as Store & { generate?: Generate; createSession: CreateSession }
  const generate = target.generate
  if (typeof generate === 'function' && (generate as Marked)[INSTALLED_ON] !== store) {
    const carried: Generate = function generateCarryingOver(this: unknown, req) {
      copyAcross(req, () => generate.call(this, req))
    }
    ;(carried as Marked)[INSTALLED_ON] = store
    installing("the session store's generate()", () => void (target.generate = carried))
  }
  const createSession = target.createSession
  if (typeof createSession === 'function' && (createSession as Marked)[INSTALLED_ON] !== store) {
    const carried: CreateSession = function createSessionCarryingOver(this: unknown, req, data) {
      return copyAcross(req, () => createSession.call(this, req, data)) as Session
    }
    ;(carried as Marked)[INSTALLED_ON] = store
    installing("the session store's createSession()", () => void (target.createSession = carried))
  }
}

function wrapDestroy(proto: { destroy?: Destroy }): void {
  const destroy = proto.destroy
  if (typeof destroy !== 'function' || (destroy as Marked)[INSTALLED_ON] === proto) return
  const carried: Destroy = function destroyCarryingOver(this: Session, callback) {
    const req = (this as Session & { req?: Request }).req
    if (req !== undefined) {
      for (const key of carriedKeys) {
        const value = (this as unknown as Holder)[key]
        if (value !== undefined) define(req, key, value)
      }
    }
    return destroy.call(this, callback)
  }
  ;(carried as Marked)[INSTALLED_ON] = proto
  installing("express-session's Session.prototype.destroy()", () => Object.defineProperty(proto, 'destroy', { value: carried, writable: true, configurable: true, enumerable: false }))
}

/**
 * Makes the registered properties of `req.session` follow it through `regenerate`, `reload` and
 * `destroy` (file comment). Installs its wrappers on the first request of each store and session prototype;
 * after that it costs a few property reads. Throws `ERR_CONFIG_INVALID` when the store or the
 * prototype is frozen.
 */
export function carryOver(req: Request): void {
  const store = req.sessionStore as (Store & { generate?: Generate }) | undefined
  const session = req.session as (Session & Record<symbol, unknown>) | undefined
  if (store !== undefined && ((store.generate as Marked | undefined)?.[INSTALLED_ON] !== store || (store.createSession as Marked)[INSTALLED_ON] !== store)) wrapStore(store)
  if (session !== undefined) {
    const proto = Object.getPrototypeOf(session) as { destroy?: Destroy }
    if ((proto.destroy as Marked | undefined)?.[INSTALLED_ON] !== proto) wrapDestroy(proto)
  }
}
