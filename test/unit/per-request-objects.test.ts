/**
 * The objects express-par hangs on a request's session on every request (the request's scope,
 * request-scope.ts; the save guard and its snapshot, session/save-guard.ts) are made with `new`,
 * never as object literals. Not style: V8 pretenures the objects of a literal whose objects tend
 * to survive, and a pretenured object that holds the request's `next` or strings keeps the whole
 * finished request alive through every young-generation collection until the next full one
 * (bench/PROFILE.md, "Morning session": 30% more bytes surviving each scavenge, about 8 µs of GC
 * per request). A timing cannot be asserted here; the shape that avoids it can. Replacing
 * `new Scope(...)`, `new Guard(...)` or `new Loaded(...)` with a literal fails this test.
 */

import type { NextFunction, Request } from 'express'
import { MemoryStore, Session } from 'express-session'
import { buildConfig } from '../../lib/config/options.js'
import { currentScope, enterScope } from '../../lib/request-scope.js'
import { createRuntime } from '../../lib/runtime.js'
import { guardSessionSave } from '../../lib/session/save-guard.js'

const options = { issuerBaseURL: 'https://op.example', baseURL: 'http://127.0.0.1', clientID: 'client', clientSecret: 'a-client-secret-of-enough-length-0123456789', allowInsecureRequests: true }

function requestWithLogin(): Request {
  const req = { sessionID: 'sid-1', sessionStore: new MemoryStore(), headers: {} } as unknown as Request & { session: Session }
  const login = { auth: { idToken: 'id', claims: { sub: 'alice' } }, id: 'login-1', at: 100, seen: 100, gen: 0 }
  // express-session's own Session, as its middleware makes one (its types keep the constructor private).
  const SessionOfExpressSession = Session as unknown as new (req: Request, data: unknown) => Session
  req.session = new SessionOfExpressSession(req, { cookie: {}, expressPar: { default: { login, pending: { 'state-1': {} } }, other: { login: { ...login, id: 'login-2' } } } })
  return req
}

/** `value` and every object reachable from it through own properties (symbol-keyed ones included). */
function objectsUnder(value: unknown, seen = new Set<object>()): object[] {
  if (typeof value !== 'object' || value === null || seen.has(value)) return []
  seen.add(value)
  const found: object[] = [value]
  for (const key of Reflect.ownKeys(value)) {
    const child = (value as Record<PropertyKey, unknown>)[key]
    if (key !== 'runtime') found.push(...objectsUnder(child, seen)) // the runtime is made once, by auth()
  }
  return found
}

test('the scope and the save guard hung on the session on every request are not object literals', () => {
  const req = requestWithLogin()
  const runtime = createRuntime(buildConfig(options))
  const next: NextFunction = () => undefined
  expect(enterScope(req, runtime, next)).toBeUndefined()
  guardSessionSave(req)

  const hung = Object.getOwnPropertySymbols(req.session).map((key) => (req.session as unknown as Record<symbol, unknown>)[key])
  expect(hung).toHaveLength(2) // the scope and the guard
  expect(hung).toContain(currentScope(req))
  const made = hung.flatMap((value) => objectsUnder(value))
  // The scope; the guard, its array of loaded states, one state per instance, and their lists of pending states.
  expect(made).toHaveLength(7)
  for (const object of made) {
    if (Array.isArray(object)) continue // arrays made by `new Array(n)` and `Object.keys`, not literals
    expect(Object.getPrototypeOf(object)).not.toBe(Object.prototype)
  }
})
