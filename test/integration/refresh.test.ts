/**
 * Refreshing tokens against the real OP (oidc-provider issuing refresh tokens and rotating them,
 * so a refresh token sent twice revokes the whole grant): req.oidc.fetch() refreshes an expired
 * access token first, concurrent requests share one refresh grant, a stale copy of the session
 * never writes the old tokens back or sends the old refresh token again, and invalid_grant ends
 * the login.
 */

import type { Request, Response, NextFunction } from 'express'
import { editStoredSession, storedAuth, storedSession } from '../support/session-store.js'
import { startResourceServer, type ResourceServer } from '../support/resource-server.js'
import { startStack, type Stack } from '../support/stack.js'
import type { TestBrowser } from '../support/browser.js'

let stack: Stack
let resource: ResourceServer
let tokenEndpointDown = false
/** Lets a test hold a request after its session was loaded, until it releases it. */
const gates = new Map<string, { reached: () => void; release: Promise<void> }>()

const refreshGrants = () => stack.opEvents.filter((e) => e.name === 'grant.success' && (e.args[0] as { oidc: { params: { grant_type: string } } }).oidc.params.grant_type === 'refresh_token').length

beforeAll(async () => {
  stack = await startStack({
    client: { grant_types: ['authorization_code', 'refresh_token'] },
    opConfiguration: { issueRefreshToken: () => true, rotateRefreshToken: true },
    opMiddleware: [
      async (ctx, next) => {
        if (tokenEndpointDown && ctx.path === '/token') {
          ctx.req.socket.destroy() // the OP goes down mid-request
          return
        }
        await next()
      },
    ],
    appRoutes: (app) => {
      const wrap = (handler: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => handler(req, res).catch(next)
      const gate = async (req: Request) => {
        const name = String(req.query.gate ?? '')
        const g = gates.get(name)
        if (g) {
          g.reached()
          await g.release
        }
      }
      app.get(
        '/api',
        wrap(async (req, res) => {
          await gate(req)
          const answer = await req.oidc.fetch(resource.url)
          res.status(answer.status).json(await answer.json())
        }),
      )
      app.post(
        '/refresh',
        wrap(async (req, res) => {
          const token = await req.oidc.accessToken!.refresh()
          res.json({ access_token: token.access_token, expires_in: token.expires_in })
        }),
      )
      app.get(
        '/note',
        wrap(async (req, res) => {
          await gate(req)
          ;(req.session as unknown as { note: string }).note = String(req.query.note)
          res.json({ ok: true })
        }),
      )
    },
  })
  resource = await startResourceServer(stack.op.provider)
})
afterAll(async () => {
  await resource.close()
  await stack.close()
})
beforeEach(() => {
  stack.opEvents.length = 0
  stack.errors.length = 0
  resource.tokens.length = 0
  tokenEndpointDown = false
})

async function loggedIn(): Promise<TestBrowser> {
  const browser = stack.browser()
  expect((await stack.login(browser)).status).toBe(302)
  return browser
}

const stored = (browser: TestBrowser) => storedAuth(storedSession(stack.store, browser, stack.baseURL))!

/** Plays the clock forward: the stored access token expired a minute ago. */
function expireAccessToken(browser: TestBrowser): void {
  editStoredSession(stack.store, browser, stack.baseURL, (s) => {
    s.expressPar!.default!.login!.auth.expiresAt = Math.floor(Date.now() / 1000) - 60
  })
}

function holdAt(name: string): { reached: Promise<void>; release: () => void } {
  let reached!: () => void
  let release!: () => void
  const reachedPromise = new Promise<void>((resolve) => (reached = resolve))
  const releasePromise = new Promise<void>((resolve) => (release = resolve))
  gates.set(name, { reached, release: releasePromise })
  return { reached: reachedPromise, release }
}

const json = (page: { body: string }) => JSON.parse(page.body)

test('req.oidc.fetch() calls the resource server with the access token; no refresh while it is valid', async () => {
  const browser = await loggedIn()
  const answer = await browser.request(`${stack.baseURL}/api`)
  expect(answer.status).toBe(200)
  expect(json(answer)).toEqual({ sub: 'alice', method: 'GET' })
  expect(resource.tokens).toEqual([stored(browser).accessToken])
  expect(refreshGrants()).toBe(0)
})

test('an expired access token is refreshed before the call, and the new tokens are stored', async () => {
  const browser = await loggedIn()
  const before = stored(browser)
  expireAccessToken(browser)
  const answer = await browser.request(`${stack.baseURL}/api`)
  expect(answer.status).toBe(200)
  const after = stored(browser)
  expect(refreshGrants()).toBe(1)
  expect(after.accessToken).not.toBe(before.accessToken)
  expect(after.refreshToken).not.toBe(before.refreshToken) // rotated
  expect(after.expiresAt).toBeGreaterThan(Math.floor(Date.now() / 1000))
  expect(resource.tokens).toEqual([after.accessToken])
  expect(storedSession(stack.store, browser, stack.baseURL)!.expressPar!.default!.login!.gen).toBe(1)
})

test('accessToken.refresh() refreshes now and resolves to the new access token', async () => {
  const browser = await loggedIn()
  const before = stored(browser)
  const answer = await browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })
  expect(answer.status).toBe(200)
  expect(json(answer).access_token).toBe(stored(browser).accessToken)
  expect(json(answer).access_token).not.toBe(before.accessToken)
  expect(refreshGrants()).toBe(1)
})

test('20 concurrent requests of one session after expiry: one refresh grant, all succeed', async () => {
  const browser = await loggedIn()
  expireAccessToken(browser)
  const answers = await Promise.all(Array.from({ length: 20 }, () => browser.request(`${stack.baseURL}/api`)))
  expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200))
  expect(refreshGrants()).toBe(1)
  expect(new Set(resource.tokens)).toEqual(new Set([stored(browser).accessToken]))
  // The grant is intact: the refreshed tokens refresh again.
  expireAccessToken(browser)
  expect((await browser.request(`${stack.baseURL}/api`)).status).toBe(200)
  expect(refreshGrants()).toBe(2)
})

test('a request that loaded the session before a refresh does not write the old tokens back when it saves', async () => {
  const browser = await loggedIn()
  expireAccessToken(browser)
  const hold = holdAt('stale-writer')
  const stale = browser.request(`${stack.baseURL}/note?gate=stale-writer&note=kept`)
  await hold.reached // it holds the session with the old tokens
  expect((await browser.request(`${stack.baseURL}/api`)).status).toBe(200)
  const refreshed = stored(browser)
  hold.release()
  expect((await stale).status).toBe(200)
  const session = storedSession(stack.store, browser, stack.baseURL)!
  expect(storedAuth(session)).toEqual(refreshed)
  expect((session as unknown as { note: string }).note).toBe('kept')
  expect(refreshGrants()).toBe(1)
})

test('a request still holding the old refresh token adopts the refresh already made instead of sending the token again', async () => {
  const browser = await loggedIn()
  expireAccessToken(browser)
  const hold = holdAt('late-refresher')
  const late = browser.request(`${stack.baseURL}/api?gate=late-refresher`)
  await hold.reached // loaded with the old, expired tokens
  expect((await browser.request(`${stack.baseURL}/api`)).status).toBe(200)
  hold.release()
  expect((await late).status).toBe(200)
  expect(refreshGrants()).toBe(1)
  // Had the old refresh token been sent again, the OP would have revoked the grant.
  expireAccessToken(browser)
  expect((await browser.request(`${stack.baseURL}/api`)).status).toBe(200)
  expect(refreshGrants()).toBe(2)
})

test('invalid_grant ends the login: 401 ERR_REFRESH_REJECTED, then logged out', async () => {
  const browser = await loggedIn()
  editStoredSession(stack.store, browser, stack.baseURL, (s) => {
    s.expressPar!.default!.login!.auth.refreshToken = 'not-a-refresh-token-the-op-issued'
  })
  const answer = await browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })
  expect(answer.status).toBe(401)
  expect(json(answer).code).toBe('ERR_REFRESH_REJECTED')
  expect(stack.errors.at(-1)?.error).toBe('invalid_grant')
  expect(json(await browser.request(`${stack.baseURL}/`)).authenticated).toBe(false)
  expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
})

test('an OP that fails the refresh leaves the session as it was (502), and the next try succeeds', async () => {
  const browser = await loggedIn()
  expireAccessToken(browser)
  const before = stored(browser)
  tokenEndpointDown = true
  const failed = await browser.request(`${stack.baseURL}/api`)
  expect(failed.status).toBe(502)
  expect(json(failed).code).toBe('ERR_OP_UNREACHABLE')
  expect(stored(browser)).toEqual(before)
  expect(json(await browser.request(`${stack.baseURL}/`)).authenticated).toBe(true)
  tokenEndpointDown = false
  // The failure is shared for a moment (2 s) so a failing OP is not hammered, then retried.
  const deadline = Date.now() + 5000
  let retried = await browser.request(`${stack.baseURL}/api`)
  while (retried.status !== 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    retried = await browser.request(`${stack.baseURL}/api`)
  }
  expect(retried.status).toBe(200)
  expect(refreshGrants()).toBe(1)
})

test('without a refresh token, an expired access token is ERR_REFRESH_UNAVAILABLE (401) and nothing is sent', async () => {
  const browser = await loggedIn()
  editStoredSession(stack.store, browser, stack.baseURL, (s) => {
    delete s.expressPar!.default!.login!.auth.refreshToken
    s.expressPar!.default!.login!.auth.expiresAt = Math.floor(Date.now() / 1000) - 60
  })
  const answer = await browser.request(`${stack.baseURL}/api`)
  expect(answer.status).toBe(401)
  expect(json(answer).code).toBe('ERR_REFRESH_UNAVAILABLE')
  expect(resource.tokens).toEqual([])
  expect(json(await browser.request(`${stack.baseURL}/`)).authenticated).toBe(true)
})

test('an access token expiring within clockTolerance is refreshed first', async () => {
  const browser = await loggedIn()
  editStoredSession(stack.store, browser, stack.baseURL, (s) => {
    s.expressPar!.default!.login!.auth.expiresAt = Math.floor(Date.now() / 1000) + 30 // clockTolerance is 60 s
  })
  expect((await browser.request(`${stack.baseURL}/api`)).status).toBe(200)
  expect(refreshGrants()).toBe(1)
})

test('fetch() without a login is ERR_UNAUTHENTICATED (401)', async () => {
  const answer = await stack.browser().request(`${stack.baseURL}/api`)
  expect(answer.status).toBe(401)
  expect(json(answer).code).toBe('ERR_UNAUTHENTICATED')
})

test("the resource server's own refusal reaches the app as a Response", async () => {
  const browser = await loggedIn()
  editStoredSession(stack.store, browser, stack.baseURL, (s) => {
    s.expressPar!.default!.login!.auth.accessToken = 'revoked-or-forged'
  })
  const answer = await browser.request(`${stack.baseURL}/api`)
  expect(answer.status).toBe(401)
  expect(json(answer)).toEqual({ error: 'invalid_token' })
})
