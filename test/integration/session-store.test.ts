/**
 * The session store is the only shared state between app instances, so express-par must (1) put
 * nothing in it that a JSON store would change, and (2) answer a store failure at each step with
 * `ERR_SESSION_STORE` and no half-written session.
 */

import { isDeepStrictEqual } from 'node:util'
import type { SessionData } from 'express-session'
import { FailingStore } from '../support/failing-store.js'
import { storedAuth, storedPending, storedSession } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'
import { SAME_ORIGIN, type TestBrowser } from '../support/browser.js'

let stack: Stack
let store: FailingStore

beforeAll(async () => {
  store = new FailingStore()
  stack = await startStack({ store })
})
afterAll(() => stack.close())
afterEach(() => {
  store.reset()
  store.inspect = undefined
})

async function isLoggedIn(browser: TestBrowser): Promise<boolean> {
  const home = await browser.request(`${stack.baseURL}/`)
  return (JSON.parse(home.body) as { authenticated: boolean }).authenticated
}

const PARTS = { login: storedAuth, pending: storedPending }

async function storedWith(part: keyof typeof PARTS): Promise<number> {
  return (await store.storedSessions()).filter((session) => PARTS[part](session) !== undefined).length
}

const errorOf = (page: { body: string }) => JSON.parse(page.body) as { code: string }

test('what express-par keeps in the session is plain JSON: it round-trips through JSON unchanged', async () => {
  const checked: Array<{ key: string; unchanged: boolean }> = []
  store.inspect = (session: SessionData) => {
    for (const key of ['pending', 'login'] as const) {
      const value = PARTS[key](session)
      if (value !== undefined) checked.push({ key, unchanged: isDeepStrictEqual(JSON.parse(JSON.stringify(value)), value) })
    }
  }
  const browser = stack.browser()
  const done = await stack.login(browser)
  expect(done.status).toBe(302)
  expect(checked.some(({ key }) => key === 'pending')).toBe(true)
  expect(checked.some(({ key }) => key === 'login')).toBe(true)
  expect(checked.filter(({ unchanged }) => !unchanged)).toEqual([])
  expect(await isLoggedIn(browser)).toBe(true)
})

test('a store that fails to save at login: 500 ERR_SESSION_STORE, no redirect to the OP, no pending login kept', async () => {
  const before = await storedWith('pending')
  store.failOn('set')
  const browser = stack.browser()
  const page = await browser.request(`${stack.baseURL}/login`)
  expect(page.status).toBe(500)
  expect(page.headers.get('location')).toBeNull()
  expect(errorOf(page).code).toBe('ERR_SESSION_STORE')
  expect(store.failed.at(-1)).toBe('set')
  expect(await storedWith('pending')).toBe(before)
})

test('a login whose save failed is undone in memory too: a later save in the same request stores no login the browser never started', async () => {
  // An app error handler that writes to the session (a flash message) makes express-session save it again as the response ends.
  const flashStore = new FailingStore()
  const flashing = await startStack({
    store: flashStore,
    errorMiddleware: (err, req, _res, next) => {
      ;(req.session as unknown as { flash: string }).flash = (err as { code: string }).code
      next(err)
    },
  })
  try {
    const browser = flashing.browser()
    expect((await browser.request(`${flashing.baseURL}/login`)).status).toBe(302)
    const started = Object.keys(storedPending(storedSession(flashStore, browser, flashing.baseURL))!)
    flashStore.failOn('set')
    const page = await browser.request(`${flashing.baseURL}/login`)
    expect(errorOf(page).code).toBe('ERR_SESSION_STORE')
    const stored = storedSession(flashStore, browser, flashing.baseURL)!
    expect((stored as unknown as { flash: string }).flash).toBe('ERR_SESSION_STORE') // the later save happened
    expect(Object.keys(storedPending(stored)!)).toEqual(started)
  } finally {
    await flashing.close()
  }
})

test('a store that fails to save the consumed login at the callback: 500 ERR_SESSION_STORE before any token request', async () => {
  const browser = stack.browser()
  const callback = await stack.authorize(browser)
  const tokenRequests = stack.opRequests.filter((path) => path === '/token').length
  store.failOn('set')
  const page = await browser.request(callback)
  expect(page.status).toBe(500)
  expect(errorOf(page).code).toBe('ERR_SESSION_STORE')
  expect(stack.opRequests.filter((path) => path === '/token').length).toBe(tokenRequests)
  expect(await isLoggedIn(browser)).toBe(false)
})

test('a store that fails to regenerate the session at the callback: 500 ERR_SESSION_STORE, not logged in', async () => {
  const browser = stack.browser()
  const callback = await stack.authorize(browser)
  const before = await storedWith('login')
  store.failOn('destroy')
  const page = await browser.request(callback)
  expect(page.status).toBe(500)
  expect(errorOf(page).code).toBe('ERR_SESSION_STORE')
  expect(store.failed.at(-1)).toBe('destroy')
  expect(await isLoggedIn(browser)).toBe(false)
  expect(await storedWith('login')).toBe(before)
})

test('a store that fails the final save at the callback: 500 ERR_SESSION_STORE, and no later save logs the user in', async () => {
  const browser = stack.browser()
  const callback = await stack.authorize(browser)
  const before = await storedWith('login')
  store.failOn('set', 2) // the first save spends the pending login; the second stores the user
  const page = await browser.request(callback)
  expect(page.status).toBe(500)
  expect(errorOf(page).code).toBe('ERR_SESSION_STORE')
  expect(store.failed.at(-1)).toBe('set')
  expect(await isLoggedIn(browser)).toBe(false)
  expect(await storedWith('login')).toBe(before)
})

test('a store that fails to destroy the session at logout: 500 ERR_SESSION_STORE, no redirect; logging out again works', async () => {
  const browser = stack.browser()
  expect((await stack.login(browser)).status).toBe(302)
  store.failOn('destroy')
  const failed = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
  expect(failed.status).toBe(500)
  expect(failed.headers.get('location')).toBeNull()
  expect(errorOf(failed).code).toBe('ERR_SESSION_STORE')
  // Nothing was logged out: the session is still in the store, as the error says.
  expect(await isLoggedIn(browser)).toBe(true)

  const retried = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
  expect(retried.status).toBe(302)
  expect(await isLoggedIn(browser)).toBe(false)
})

test('a store that fails to load the session: express-session itself passes the store error on, before express-par runs', async () => {
  const browser = stack.browser()
  expect((await stack.login(browser)).status).toBe(302)
  const errors = stack.errors.length
  store.failOn('get')
  const page = await browser.request(`${stack.baseURL}/`)
  expect(page.status).toBe(500)
  expect(stack.errors.length).toBe(errors + 1)
  expect(stack.errors.at(-1)?.message).toBe('simulated session store failure: get')
  expect(stack.errors.at(-1)?.code).toBeUndefined()
  expect(await isLoggedIn(browser)).toBe(true)
})

test('a store that reports a disconnect: express-session serves no session, and express-par says why', async () => {
  store.emit('disconnect')
  try {
    const page = await stack.browser().request(`${stack.baseURL}/login`)
    expect(page.status).toBe(500)
    expect(errorOf(page).code).toBe('ERR_SESSION_MISSING')
    expect(JSON.parse(page.body).message).toMatch(/store reported a disconnect/)
  } finally {
    store.emit('connect')
  }
  expect((await stack.browser().request(`${stack.baseURL}/login`)).status).toBe(302)
})
