/**
 * How long logins and pre-login sessions live: `session.absoluteDuration` from the login,
 * `session.rollingDuration` from the last request that read it, and a session holding nothing
 * but pending logins expires with them in the store. Clocks are played forward by replacing
 * `Date.now` (the app's, express-session's and the store's clock), except in one real-time test.
 */

import { MemoryStore } from 'express-session'
import { startStack, type Stack, type StackOptions } from '../support/stack.js'
import { storedAuth, storedSession } from '../support/session-store.js'
import type { TestBrowser } from '../support/browser.js'

const realNow = Date.now
afterEach(() => {
  Date.now = realNow
})
const forward = (seconds: number) => {
  const offset = (Date.now() - realNow()) + seconds * 1000
  Date.now = () => realNow() + offset
}

async function withStack(options: StackOptions, run: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack(options)
  try {
    await run(stack)
  } finally {
    await stack.close()
  }
}

const authenticated = async (stack: Stack, browser: TestBrowser) => JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated as boolean

describe('login lifetimes', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ auth: { session: { absoluteDuration: 3600, rollingDuration: 600 } } })
  })
  afterAll(() => stack.close())

  async function loggedIn(): Promise<TestBrowser> {
    const browser = stack.browser()
    expect((await stack.login(browser)).status).toBe(302)
    return browser
  }

  test('the absolute duration ends a login however active it is, and removes it from the store', async () => {
    const browser = await loggedIn()
    for (let i = 0; i < 6; i++) {
      forward(590) // never idle for the rolling duration
      expect(await authenticated(stack, browser)).toBe(true)
    }
    forward(60) // 3600 s since the login
    expect(await authenticated(stack, browser)).toBe(false)
    expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
  })

  test('the rolling duration ends a login left idle, and a request that reads it keeps it alive', async () => {
    const browser = await loggedIn()
    forward(500)
    expect(await authenticated(stack, browser)).toBe(true)
    forward(500) // 1000 s since the login, 500 s since the last request
    expect(await authenticated(stack, browser)).toBe(true)
    forward(601)
    expect(await authenticated(stack, browser)).toBe(false)
  })

  test('an expired login makes requiresAuth() send a navigation to login again, and an API call get 401', async () => {
    const browser = await loggedIn()
    forward(601)
    const navigation = await browser.request(`${stack.baseURL}/protected`)
    expect(navigation.status).toBe(302)
    expect(new URL(navigation.headers.get('location')!).origin).toBe(stack.issuer)
    const api = await browser.request(`${stack.baseURL}/protected`, { headers: { 'sec-fetch-mode': 'cors', accept: 'application/json' } })
    expect(api.status).toBe(401)
  })
})

test('`false` turns a lifetime off', async () => {
  await withStack({ auth: { session: { absoluteDuration: false, rollingDuration: false } } }, async (stack) => {
    const browser = stack.browser()
    await stack.login(browser)
    forward(400 * 86400)
    expect(await authenticated(stack, browser)).toBe(true)
  })
})

test('the defaults are 7 days absolute and 1 day rolling', async () => {
  await withStack({}, async (stack) => {
    const browser = stack.browser()
    await stack.login(browser)
    forward(86400 - 10)
    expect(await authenticated(stack, browser)).toBe(true)
    forward(86400 + 1)
    expect(await authenticated(stack, browser)).toBe(false)
    const again = stack.browser()
    await stack.login(again)
    for (let day = 0; day < 7; day++) {
      forward(86000) // 602,000 s after 7 of these
      expect(await authenticated(stack, again)).toBe(true)
    }
    forward(3000) // past 7 days (604,800 s)
    expect(await authenticated(stack, again)).toBe(false)
  })
})

test('in real time: a two-second absolute duration', async () => {
  // Lifetimes count whole seconds: with 2 s, a check within a second of the login is always
  // inside it (whatever second boundary it crosses), and one 3 s later always past it.
  await withStack({ auth: { session: { absoluteDuration: 2 } } }, async (stack) => {
    const browser = stack.browser()
    await stack.login(browser)
    expect(await authenticated(stack, browser)).toBe(true)
    await new Promise((resolve) => setTimeout(resolve, 3100))
    expect(await authenticated(stack, browser)).toBe(false)
  })
})

describe('sessions that hold nothing but pending logins', () => {
  test('1,000 cookieless /login requests leave nothing in the memory store once their logins expire', async () => {
    const store = new MemoryStore()
    await withStack({ store }, async (stack) => {
      const count = () => new Promise<number>((resolve, reject) => store.length((err, n) => (err ? reject(err) : resolve(n ?? 0))))
      for (let batch = 0; batch < 50; batch++) {
        const answers = await Promise.all(Array.from({ length: 20 }, () => stack.browser().request(`${stack.baseURL}/login`)))
        expect(answers.every((a) => a.status === 302)).toBe(true)
      }
      expect(await count()).toBe(1000)
      forward(11 * 60)
      expect(await count()).toBe(1000) // a late callback is still told its login expired
      forward(2 * 60)
      expect(await count()).toBe(0)
    })
  })

  test('their cookie carries the pending logins’ lifetime; a logged-in session gets the app’s cookie settings again', async () => {
    await withStack({}, async (stack) => {
      const browser = stack.browser()
      const start = await browser.request(`${stack.baseURL}/login`)
      const expires = Date.parse(/Expires=([^;]+)/.exec(start.headers.get('set-cookie') ?? '')?.[1] ?? '')
      expect(expires - Date.now()).toBeGreaterThan(11 * 60 * 1000)
      expect(expires - Date.now()).toBeLessThanOrEqual(12 * 60 * 1000 + 1000)
      const callback = await stack.authorize(browser)
      const done = await browser.request(callback)
      expect(done.headers.get('set-cookie')).not.toMatch(/Expires=/i) // the app's cookie: a browser-session cookie
    })
  })

  test('a session that holds the app’s own data keeps the app’s cookie lifetime when a login starts', async () => {
    await withStack(
      {
        appRoutes: (app) =>
          app.get('/cart', (req, res) => {
            ;(req.session as unknown as { cart: string[] }).cart = ['book']
            res.json({ ok: true })
          }),
      },
      async (stack) => {
        const browser = stack.browser()
        await browser.request(`${stack.baseURL}/cart`)
        const start = await browser.request(`${stack.baseURL}/login`)
        expect(start.status).toBe(302)
        expect(start.headers.get('set-cookie') ?? '').not.toMatch(/Expires=/i)
      },
    )
  })
})
