/**
 * express-session writes whole sessions and the last writer wins. The save guard re-reads the
 * stored session before a save and reconciles express-par's part, so a request that loaded the
 * session earlier never undoes what another request did meanwhile: two tabs starting a login at
 * the same instant both keep their pending login, and a logout is not undone by a request that
 * was in flight. (Refreshed tokens: refresh.test.ts.) Requests that do not save cost no read.
 */

import type { NextFunction, Request, Response } from 'express'
import { MemoryStore } from 'express-session'
import { authorizeAtOP, type TestBrowser } from '../support/browser.js'
import { sessionId, storedAuth, storedPending, storedSession, storedSessionById } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

/** A memory store that counts its reads. */
class CountingStore extends MemoryStore {
  reads = 0
  override get(sid: string, callback: (err: unknown, session?: never) => void): void {
    this.reads++
    super.get(sid, callback as never)
  }
}

let stack: Stack
const store = new CountingStore()
let parArrivals: Array<() => void> = []
let holdPushes = 0
let notes = 0
const gates = new Map<string, { reached: () => void; release: Promise<void> }>()

beforeAll(async () => {
  stack = await startStack({
    store,
    opMiddleware: [
      // While holdPushes is set, PAR requests wait until that many have arrived: the logins overlap.
      async (ctx, next) => {
        if (holdPushes > 0 && ctx.path === '/request') {
          await new Promise<void>((resolve) => {
            parArrivals.push(resolve)
            if (parArrivals.length >= holdPushes) for (const release of parArrivals) release()
          })
        }
        await next()
      },
    ],
    appRoutes: (app) => {
      // What an app may do to change the session id and keep its data: copy, regenerate, copy back.
      app.get('/copy-into-new-session', (req: Request, res: Response, next: NextFunction) => {
        const data = { ...req.session }
        req.session.regenerate((err) => {
          if (err) return next(err)
          Object.assign(req.session, data)
          req.session.save((saveErr) => (saveErr ? next(saveErr) : res.json({ ok: true })))
        })
      })
      app.get('/note', (req: Request, res: Response, next: NextFunction) => {
        const gate = gates.get(String(req.query.gate))
        Promise.resolve()
          .then(async () => {
            if (gate) {
              gate.reached()
              await gate.release
            }
            ;(req.session as unknown as { note: number }).note = ++notes // a change every time: every /note saves
            res.json({ ok: true })
          })
          .catch(next)
      })
    },
  })
})
afterAll(() => stack.close())
afterEach(() => {
  holdPushes = 0
  parArrivals = []
})

function holdAt(name: string) {
  let reached!: () => void
  let release!: () => void
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve))
  gates.set(name, { reached, release: new Promise<void>((resolve) => (release = resolve)) })
  return { reached: reachedPromise, release }
}

async function sessionWithCookie(): Promise<TestBrowser> {
  const browser = stack.browser()
  await browser.request(`${stack.baseURL}/note`) // a session of the app's own, with its cookie
  expect(browser.cookie(stack.baseURL, 'connect.sid')).toBeDefined()
  return browser
}

/**
 * Logs `browser` out while a request of its session (a `/note` that saves) is in flight, and
 * returns the stored session under the id that was logged out once that request has saved: what
 * a stale save would have written back.
 */
async function logOutWhileASaveIsInFlight(browser: TestBrowser, gate: string): Promise<ReturnType<typeof storedSessionById>> {
  const loggedOutId = sessionId(browser, stack.baseURL)!
  const hold = holdAt(gate)
  const inFlight = browser.request(`${stack.baseURL}/note?gate=${gate}`)
  await hold.reached // it loaded the logged-in session
  expect((await browser.request(`${stack.baseURL}/logout`, { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(302)
  hold.release()
  expect((await inFlight).status).toBe(200)
  return storedSessionById(stack.store, loggedOutId)
}

test('two tabs starting a login at the same instant both keep their pending login, and both complete', async () => {
  const browser = await sessionWithCookie()
  holdPushes = 2
  const [first, second] = await Promise.all([browser.request(`${stack.baseURL}/login?returnTo=/one`), browser.request(`${stack.baseURL}/login?returnTo=/two`)])
  holdPushes = 0
  expect(Object.keys(storedPending(storedSession(stack.store, browser, stack.baseURL))!)).toHaveLength(2)
  const firstCallback = await authorizeAtOP(browser, first.headers.get('location')!, stack.callbackPrefix)
  const secondCallback = await authorizeAtOP(browser, second.headers.get('location')!, stack.callbackPrefix)
  expect((await browser.request(secondCallback)).headers.get('location')).toBe('/two')
  expect((await browser.request(firstCallback)).headers.get('location')).toBe('/one')
})

test('a request in flight while the user logs out does not bring the login back when it saves', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  // The in-flight request saved under the id it loaded: the login must not be back there.
  expect(storedAuth(await logOutWhileASaveIsInFlight(browser, 'in-flight'))).toBeUndefined()
  expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
  expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(false)
})

test('a logged-in request that changes nothing costs the one read express-session makes, and no save', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  await browser.request(`${stack.baseURL}/protected`) // settles the rolling lifetime's "seen"
  const reads = store.reads
  const page = await browser.request(`${stack.baseURL}/protected`)
  expect(page.status).toBe(200)
  expect(store.reads - reads).toBe(1)
})

test('a logged-in request that saves reads the stored session once more, to reconcile', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  const reads = store.reads
  await browser.request(`${stack.baseURL}/note`)
  expect(store.reads - reads).toBe(2)
  expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeDefined()
})

test('an app that copies the session into a regenerated one keeps the login: the copy carries no save guard of the old id', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  const before = browser.cookie(stack.baseURL, 'connect.sid')
  expect((await browser.request(`${stack.baseURL}/copy-into-new-session`)).status).toBe(200)
  expect(browser.cookie(stack.baseURL, 'connect.sid')).not.toBe(before)
  expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeDefined()
  expect((await browser.request(`${stack.baseURL}/protected`, { headers: { accept: 'application/json' } })).status).toBe(200)
})

test("a store whose set() something replaced after express-par wrapped it is guarded again: the logout still holds", async () => {
  const browser = stack.browser()
  await stack.login(browser)
  await browser.request(`${stack.baseURL}/note`) // a guarded save: express-par has wrapped the store's set()
  const replaced = store.set
  let writes = 0
  // Instrumentation that wraps whatever set() it finds (express-par's), as a metrics library would.
  store.set = function instrumented(this: CountingStore, ...args: Parameters<MemoryStore['set']>) {
    writes++
    return replaced.apply(this, args)
  }
  try {
    expect(storedAuth(await logOutWhileASaveIsInFlight(browser, 'in-flight-replaced'))).toBeUndefined()
    expect(writes).toBeGreaterThan(0)
    // The instrumentation removed again: express-par's own set() is back, and is not wrapped twice.
    store.set = replaced
    await stack.login(browser)
    expect((await browser.request(`${stack.baseURL}/note`)).status).toBe(200)
    expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeDefined()
  } finally {
    store.set = replaced
  }
})

test('a store whose set() was replaced by one that does not call express-par\'s is wrapped again at the next request', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  await browser.request(`${stack.baseURL}/note`) // a guarded save: express-par has wrapped the store's set()
  const replaced = store.set
  store.set = MemoryStore.prototype.set // e.g. a test double or a library resetting the store's method
  try {
    expect(storedAuth(await logOutWhileASaveIsInFlight(browser, 'in-flight-reset'))).toBeUndefined()
  } finally {
    store.set = replaced
  }
})
