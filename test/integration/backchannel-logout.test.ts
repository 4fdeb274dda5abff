/**
 * Back-channel logout driven by the real OP: oidc-provider with `features.backchannelLogout`
 * ends its session (the user confirms on its logout page) and POSTs a logout token to the app's
 * `backchannel_logout_uri`; the app's sessions of that OP session (`sid`), or of that user (`sub`
 * only, when the client is registered without `backchannel_logout_session_required`), end.
 */

import type { NextFunction, Request, Response } from 'express'
import { MemoryStore } from 'express-session'
import { authorizeAtOP, endSessionAtOP, type TestBrowser } from '../support/browser.js'
import { sessionId, storedAuth, storedSessionById } from '../support/session-store.js'
import { startStack, type Stack, type StackOptions } from '../support/stack.js'

/**
 * oidc-provider refuses to call loopback addresses (SSRF protection, since 9.7): the tests let
 * its logout calls through to the app on this machine, and keep the tokens it sent.
 */
function letLogoutCallsThrough(sent: string[]) {
  return {
    fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
      const { dispatcher: _ssrfProtection, ...rest } = options
      const token = options.body instanceof URLSearchParams ? options.body.get('logout_token') : null
      if (token) sent.push(token)
      return fetch(url, rest as RequestInit)
    },
  }
}

async function startBackchannelStack(sessionRequired: boolean, sent: string[], more: Partial<StackOptions> = {}): Promise<Stack> {
  return startStack({
    ...more,
    auth: { backchannelLogout: true },
    opFeatures: { backchannelLogout: { enabled: true } },
    opConfiguration: letLogoutCallsThrough(sent),
    client: (baseURL) => ({ backchannel_logout_uri: `${baseURL}/backchannel-logout`, backchannel_logout_session_required: sessionRequired }),
  })
}

const whoIs = async (stack: Stack, browser: TestBrowser) => (JSON.parse((await browser.request(`${stack.baseURL}/`)).body) as { user: { sub: string } | null }).user?.sub ?? null

async function loggedIn(stack: Stack, login = 'alice'): Promise<TestBrowser> {
  const browser = stack.browser()
  const start = await browser.request(`${stack.baseURL}/login`)
  const callback = await authorizeAtOP(browser, start.headers.get('location')!, stack.callbackPrefix, { login })
  expect((await browser.request(callback)).status).toBe(302)
  expect(await whoIs(stack, browser)).toBe(login)
  return browser
}

const decode = (jwt: string) => ({
  header: JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>,
  claims: JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>,
})

describe('registered with backchannel_logout_session_required: the OP session (sid) ends', () => {
  const sent: string[] = []
  let stack: Stack
  beforeAll(async () => {
    stack = await startBackchannelStack(true, sent)
  })
  afterAll(() => stack.close())

  test('ending the session at the OP logs the app session out; another browser\'s session of the same user stays', async () => {
    const browser = await loggedIn(stack)
    const elsewhere = await loggedIn(stack)
    const endedAt = stack.opEvents.length
    const out = await endSessionAtOP(browser, `${stack.issuer}/session/end`)
    expect(out.status).toBe(303)
    expect(stack.opEvents.slice(endedAt).map(({ name }) => name)).toEqual(['backchannel.success'])

    // The OP sent a real logout token: typ logout+jwt, sid and sub, the back-channel logout event.
    const { header, claims } = decode(sent.at(-1)!)
    expect(header).toMatchObject({ typ: 'logout+jwt', alg: 'RS256' })
    expect(claims).toMatchObject({ sub: 'alice', sid: expect.any(String), events: { 'http://schemas.openid.net/event/backchannel-logout': {} } })
    expect(claims.nonce).toBeUndefined()

    expect(await whoIs(stack, browser)).toBeNull()
    expect(await whoIs(stack, elsewhere)).toBe('alice')
  })

  test('the app answered the OP with 200: a replay of the token the OP sent is refused', async () => {
    const browser = await loggedIn(stack)
    await endSessionAtOP(browser, `${stack.issuer}/session/end`)
    const replay = await fetch(`${stack.baseURL}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: sent.at(-1)! }),
    })
    expect(replay.status).toBe(400)
    expect(await replay.json()).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/accepted before/) })
  })
})

describe('registered without backchannel_logout_session_required: every session of the user (sub) ends', () => {
  const sent: string[] = []
  let stack: Stack
  beforeAll(async () => {
    stack = await startBackchannelStack(false, sent)
  })
  afterAll(() => stack.close())

  test('ending the session at the OP in one browser logs the user out in both; another user stays', async () => {
    const [first, second] = [await loggedIn(stack), await loggedIn(stack)]
    const bob = await loggedIn(stack, 'bob')
    await endSessionAtOP(first, `${stack.issuer}/session/end`)
    expect(decode(sent.at(-1)!).claims).toMatchObject({ sub: 'alice' })
    expect(decode(sent.at(-1)!).claims.sid).toBeUndefined()
    expect(await whoIs(stack, first)).toBeNull()
    expect(await whoIs(stack, second)).toBeNull()
    expect(await whoIs(stack, bob)).toBe('bob')
  })
})

/**
 * A memory store that can hold the answer to one read of a session: the answer is what the store
 * held when it was asked, delivered when the test says so. So a save guard's re-read (save-guard.ts)
 * can be made to sit between its read and its write while a back-channel logout runs.
 */
class HoldingStore extends MemoryStore {
  #held: { id: string; reached: () => void; release: Promise<void> } | undefined
  #destroyed = new Map<string, () => void>()

  /** Holds the next read of `id`; `reached` once it is being held, `release()` lets it answer. */
  holdNextRead(id: string): { reached: Promise<void>; release: () => void } {
    let reached!: () => void
    let release!: () => void
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve))
    this.#held = { id, reached, release: new Promise<void>((resolve) => (release = resolve)) }
    return { reached: reachedPromise, release }
  }

  /** Resolves when `id` is destroyed. */
  destroyedOnce(id: string): Promise<void> {
    return new Promise((resolve) => this.#destroyed.set(id, resolve))
  }

  override get(sid: string, callback: (err: unknown, session?: never) => void): void {
    const held = this.#held
    if (held === undefined || held.id !== sid) return super.get(sid, callback as never)
    this.#held = undefined
    super.get(sid, ((err: unknown, session?: never) => {
      held.reached()
      void held.release.then(() => callback(err, session))
    }) as never)
  }

  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    super.destroy(sid, (err?: unknown) => {
      this.#destroyed.get(sid)?.()
      this.#destroyed.delete(sid)
      callback?.(err)
    })
  }
}

describe('a back-channel logout while a save of the same session is in flight', () => {
  const sent: string[] = []
  const store = new HoldingStore()
  let changing: { reached: () => void; release: Promise<void> } | undefined
  let stack: Stack
  beforeAll(async () => {
    stack = await startBackchannelStack(true, sent, {
      store,
      appRoutes: (app) => {
        // Changes the session (so it saves), after waiting at the test's gate when one is set.
        app.get('/note', (req: Request, res: Response, next: NextFunction) => {
          const gate = changing
          changing = undefined
          Promise.resolve()
            .then(async () => {
              if (gate) {
                gate.reached()
                await gate.release
              }
              ;(req.session as unknown as { note: number }).note = Date.now()
              res.json({ ok: true })
            })
            .catch(next)
        })
      },
    })
  })
  afterAll(() => stack.close())

  test('takes its turn after the save: the save does not write the ended login back', async () => {
    const browser = await loggedIn(stack)
    const id = sessionId(browser, stack.baseURL)!
    let loaded!: () => void
    let change!: () => void
    const hasLoaded = new Promise<void>((resolve) => (loaded = resolve))
    changing = { reached: loaded, release: new Promise<void>((resolve) => (change = resolve)) }
    const note = browser.request(`${stack.baseURL}/note`)
    await hasLoaded // the request loaded the logged-in session
    const read = store.holdNextRead(id)
    change()
    await read.reached // its save re-read the session (the login still in it) and waits to write

    const out = endSessionAtOP(browser, `${stack.issuer}/session/end`)
    // Without turns, the logout reads the session now and destroys it while the save waits. With
    // them, it waits for the save, so nothing is destroyed until the hold is released.
    const destroyedWhileSaving = await Promise.race([store.destroyedOnce(id).then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1500))])
    read.release()
    expect((await note).status).toBe(200)
    expect((await out).status).toBe(303)
    expect(destroyedWhileSaving).toBe(false)
    expect(storedAuth(storedSessionById(store, id))).toBeUndefined()
    expect(await whoIs(stack, browser)).toBeNull()
  })
})
