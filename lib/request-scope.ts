/**
 * Which `auth()` instance a request belongs to. Each instance's middleware enters its scope as the
 * request passes through it, so `app.use('/staff', auth({ name: 'staff' }))` puts `/staff/*` in
 * the staff instance's scope and leaves other paths alone. When several instances see a request,
 * the last one is in scope; `requiresAuth({ name })` can bring another one forward.
 *
 * A request's scope is one symbol-keyed, non-enumerable property of the request's session, which
 * follows the session through `regenerate`, `reload` and `destroy` (session/carry-over.ts). Not a
 * WeakMap: one keyed by an object that lives for one request makes every young-generation garbage
 * collection walk its entries (ephemerons), about 15 µs of GC per request in bench/PROFILE.md.
 * Not a property of `req`: every Express `req` has a hidden class of its own, so adding one copies
 * its descriptors, about 1.5 KB per request; sessions share their hidden class. Non-enumerable and
 * symbol-keyed keeps it out of JSON (so out of every store), copies, logs and other libraries' names.
 */

import type { NextFunction, Request } from 'express'
import { parError, type ExpressParError } from './errors.js'
import type { Runtime } from './runtime.js'
import { carriedOnSession, carriedValue, carryOver, setCarried } from './session/carry-over.js'

/**
 * One instance's scope of a request. A class, not an object literal, and not for style: V8 may
 * decide that the objects one literal makes outlive young-generation collections and allocate
 * them straight into the old generation (allocation-site pretenuring). One made per request that
 * holds the request's `next` then keeps the request it belongs to, long finished, alive through
 * every young collection until the next full one: 30% more bytes surviving each young collection
 * and about 8 µs of GC per request in bench/PROFILE.md. Objects made with `new` are not pretenured.
 */
export class Scope {
  /** `req.oidc` / `res.oidc` of this scope, built when first read. */
  request: object | undefined = undefined
  response: object | undefined = undefined

  constructor(
    readonly runtime: Runtime,
    /** The `next` of the instance's middleware: where `res.oidc` reports failures by default. */
    readonly next: NextFunction,
    /** The scope the request was in before this instance's middleware, if any. */
    readonly outer: Scope | undefined,
  ) {}
}

const SCOPE = carriedOnSession(Symbol('express-par.scope'))

const scopeOf = (req: object): Scope | undefined => carriedValue(req, SCOPE) as Scope | undefined
const setScope = (req: object, scope: Scope): void => setCarried(req, SCOPE, scope)

/**
 * Puts `req` in `runtime`'s scope. Returns an error, and changes nothing, when another instance
 * with the same name already saw this request: both would read and write the same session state.
 */
export function enterScope(req: Request, runtime: Runtime, next: NextFunction): ExpressParError | undefined {
  let outer = scopeOf(req)
  if (outer !== undefined) {
    if (outer.runtime === runtime) outer = outer.outer
    for (let scope = outer; scope !== undefined; scope = scope.outer) {
      if (scope.runtime.config.name === runtime.config.name) {
        return parError(
          'ERR_CONFIG_INVALID',
          `Two auth() instances named ${JSON.stringify(runtime.config.name)} handle this request: they would share one login in the session. Give each auth() its own \`name\`.`,
        )
      }
    }
  }
  carryOver(req)
  setScope(req, new Scope(runtime, next, outer))
  return undefined
}

/** The scope `req` is in, or `undefined` when no `auth()` instance has seen it. */
export function currentScope(req: object): Scope | undefined {
  return scopeOf(req)
}

/** The scope of the instance named `name` among those that saw `req`. */
export function findScope(req: object, name: string): Scope | undefined {
  for (let scope = scopeOf(req); scope !== undefined; scope = scope.outer) if (scope.runtime.config.name === name) return scope
  return undefined
}

/** Makes `scope` (one of `req`'s, see {@link findScope}) the one in scope for the rest of the request. */
export function focusScope(req: object, scope: Scope): void {
  const current = scopeOf(req)
  if (current !== scope) setScope(req, new Scope(scope.runtime, scope.next, current))
}
