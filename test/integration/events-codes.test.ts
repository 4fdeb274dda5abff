/**
 * Every error code of the README's table, as an audit event: each one that an operation (login,
 * callback, logout, refresh, back-channel logout) can end with is produced against the
 * misbehaving OP, and exactly one event with that code comes out on its channel. The few codes
 * that are not the outcome of such an operation are listed with the reason. A code added to
 * ERROR_STATUS without a row here fails the last test.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { randomUUID } from 'node:crypto'
import type { NextFunction, Request, Response } from 'express'
import { ERROR_STATUS, type AuthOptions, type Coordination } from 'express-par'
import type { ExpressParEvent } from '../../lib/events.js'
import type { TestBrowser } from '../support/browser.js'
import { FailingStore } from '../support/failing-store.js'
import { HOSTILE_CLIENT_ID } from '../support/hostile-op.js'
import { startHostileStack, type HostileStack } from '../support/hostile-stack.js'
import { editStoredSession } from '../support/session-store.js'

const CHANNELS = ['login', 'callback', 'logout', 'refresh', 'backchannel-logout'] as const
type Channel = (typeof CHANNELS)[number]
const seen: Array<{ channel: Channel; event: ExpressParEvent }> = []
const listeners = CHANNELS.map((channel) => [`express-par:${channel}`, (event: unknown) => seen.push({ channel, event: event as ExpressParEvent })] as const)
beforeAll(() => listeners.forEach(([name, listener]) => subscribe(name, listener)))
afterAll(() => listeners.forEach(([name, listener]) => unsubscribe(name, listener)))

const EVENT = 'http://schemas.openid.net/event/backchannel-logout'
const now = () => Math.floor(Date.now() / 1000)

/** The app's routes the table drives: a login with options, a refresh, a logout form post. */
function routes(app: import('express').Express): void {
  app.get('/login-with', (req: Request, res: Response, next: NextFunction) => {
    void res.oidc.login({ authorizationParams: { state: 'chosen-by-the-app' } }, next)
  })
  app.post('/refresh', (req: Request, res: Response, next: NextFunction) => {
    req.oidc.accessToken?.refresh().then(() => res.json({ ok: true }), next) ?? next(new Error('no access token'))
  })
}

const refreshingRoute = (app: import('express').Express) => {
  routes(app)
}

async function loggedIn(stack: HostileStack): Promise<TestBrowser> {
  const browser = stack.browser()
  await stack.expectLoggedIn(await stack.login(browser), browser)
  return browser
}

const refresh = (stack: HostileStack, browser: TestBrowser) => browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })
const postForm = (stack: HostileStack, form: Record<string, string>) =>
  fetch(`${stack.baseURL}/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() })
const logoutToken = (stack: HostileStack, jti = randomUUID()) =>
  stack.op.sign({ iss: stack.op.issuer, aud: HOSTILE_CLIENT_ID, iat: now(), exp: now() + 120, jti, events: { [EVENT]: {} }, sub: 'alice' }, { header: { typ: 'logout+jwt' } })

const failingCoordination = (): Coordination => ({
  setIfAbsent: async () => {
    throw new Error('connect ECONNREFUSED 10.0.0.9:6379')
  },
  get: async () => undefined,
  delete: async () => {},
  addToSet: async () => {},
  members: async () => [],
})

interface Case {
  channel: Channel
  auth?: Partial<AuthOptions>
  store?: () => FailingStore
  /** Produces the failure; `seen` is emptied just before. */
  run: (stack: HostileStack) => Promise<unknown>
}

const CASES: Record<string, Case> = {
  ERR_CONFIG_INVALID: {
    channel: 'login',
    run: async (stack) => {
      stack.op.bend.discovery = (valid) => ({ ...valid, token_endpoint_auth_methods_supported: ['private_key_jwt'] })
      return stack.startLogin(stack.browser())
    },
  },
  ERR_SESSION_STORE: {
    channel: 'login',
    store: () => new FailingStore(),
    run: async (stack) => {
      ;(stack.store as FailingStore).failOn('set')
      return stack.startLogin(stack.browser())
    },
  },
  ERR_LOGIN_OPTIONS_INVALID: { channel: 'login', run: (stack) => stack.browser().request(`${stack.baseURL}/login-with`) },
  ERR_DISCOVERY_FAILED: { channel: 'login', run: async (stack) => ((stack.op.bend.discovery = () => ({ status: 500, body: 'down' })), stack.startLogin(stack.browser())) },
  ERR_PAR_UNSUPPORTED: {
    channel: 'login',
    run: async (stack) => {
      stack.op.bend.discovery = ({ pushed_authorization_request_endpoint: _gone, ...valid }) => valid
      return stack.startLogin(stack.browser())
    },
  },
  ERR_PAR_FAILED: { channel: 'login', run: async (stack) => ((stack.op.bend.par = () => ({ status: 400, body: { error: 'invalid_request' } })), stack.startLogin(stack.browser())) },
  ERR_OP_UNREACHABLE: { channel: 'login', run: async (stack) => ((stack.op.bend.par = () => ({ reset: true })), stack.startLogin(stack.browser())) },
  ERR_OP_TIMEOUT: { channel: 'login', auth: { httpTimeout: 300 }, run: async (stack) => ((stack.op.bend.par = () => ({ hang: true })), stack.startLogin(stack.browser())) },

  ERR_CALLBACK_INVALID: {
    channel: 'callback',
    run: async (stack) => {
      const browser = stack.browser()
      const callback = new URL(await stack.authorize(browser))
      callback.searchParams.delete('state')
      return browser.request(callback.href)
    },
  },
  ERR_LOGIN_NOT_PENDING: { channel: 'callback', run: (stack) => stack.browser().request(`${stack.baseURL}/callback?code=c&state=forged&iss=${encodeURIComponent(stack.op.issuer)}`) },
  ERR_LOGIN_EXPIRED: {
    channel: 'callback',
    run: async (stack) => {
      const browser = stack.browser()
      const callback = await stack.authorize(browser)
      editStoredSession(stack.store, browser, stack.baseURL, (s) => {
        for (const login of Object.values(s.expressPar!.default!.pending!)) login.e = Date.now() - 1
      })
      return browser.request(callback)
    },
  },
  ERR_ISSUER_MISMATCH: { channel: 'callback', run: async (stack) => ((stack.op.bend.authorize = (q) => (q.set('iss', 'https://mix-up.example'), q)), stack.login(stack.browser())) },
  ERR_LOGIN_REFUSED: { channel: 'callback', run: async (stack) => ((stack.op.bend.authorize = (q) => new URLSearchParams({ error: 'access_denied', state: q.get('state')!, iss: q.get('iss')! })), stack.login(stack.browser())) },
  ERR_OP_SERVER_ERROR: { channel: 'callback', run: async (stack) => ((stack.op.bend.authorize = (q) => new URLSearchParams({ error: 'server_error', state: q.get('state')!, iss: q.get('iss')! })), stack.login(stack.browser())) },
  ERR_CODE_REJECTED: { channel: 'callback', run: async (stack) => ((stack.op.bend.token = () => ({ status: 400, body: { error: 'invalid_grant' } })), stack.login(stack.browser())) },
  ERR_TOKEN_REQUEST_FAILED: { channel: 'callback', run: async (stack) => ((stack.op.bend.token = () => ({ status: 400, body: { error: 'invalid_client' } })), stack.login(stack.browser())) },
  ERR_TOKEN_RESPONSE_INVALID: { channel: 'callback', run: async (stack) => ((stack.op.bend.token = () => ({ status: 200, body: 'not json' })), stack.login(stack.browser())) },
  ERR_ID_TOKEN_INVALID: { channel: 'callback', run: async (stack) => ((stack.op.bend.idToken = (c) => c.sign({ ...c.claims, iss: 'https://evil.example' })), stack.login(stack.browser())) },
  ERR_AFTER_CALLBACK_INVALID: { channel: 'callback', auth: { afterCallback: (() => null) as never }, run: (stack) => stack.login(stack.browser()) },
  ERR_COORDINATION_FAILED: { channel: 'callback', auth: { coordination: failingCoordination() }, run: (stack) => stack.login(stack.browser()) },
  ERR_JARM_INVALID: {
    channel: 'callback',
    auth: { responseMode: 'jwt' },
    run: async (stack) => ((stack.op.bend.jarm = (c) => c.sign({ ...c.claims, aud: 'another-client' })), stack.login(stack.browser())),
  },
  ERR_DPOP_DOWNGRADE: {
    channel: 'callback',
    auth: { dpop: true },
    run: async (stack) => ((stack.op.bend.token = (valid) => ({ ...valid, body: { ...(valid.body as object), token_type: 'Bearer' } })), stack.login(stack.browser())),
  },

  ERR_REFRESH_UNAVAILABLE: {
    channel: 'refresh',
    run: async (stack) => {
      const browser = await loggedIn(stack)
      editStoredSession(stack.store, browser, stack.baseURL, (s) => void delete s.expressPar!.default!.login!.auth.refreshToken)
      seen.length = 0
      return refresh(stack, browser)
    },
  },
  ERR_REFRESH_REJECTED: {
    channel: 'refresh',
    run: async (stack) => {
      const browser = await loggedIn(stack)
      stack.op.bend.token = () => ({ status: 400, body: { error: 'invalid_grant' } })
      seen.length = 0
      return refresh(stack, browser)
    },
  },

  ERR_LOGOUT_CROSS_SITE: {
    channel: 'logout',
    run: async (stack) => {
      const browser = await loggedIn(stack)
      seen.length = 0
      return browser.request(`${stack.baseURL}/logout`, { headers: { 'sec-fetch-site': 'cross-site' } })
    },
  },
  ERR_IDP_LOGOUT_UNSUPPORTED: {
    channel: 'logout',
    auth: { idpLogout: true },
    run: async (stack) => {
      const browser = await loggedIn(stack)
      seen.length = 0
      return browser.request(`${stack.baseURL}/logout`, { headers: { 'sec-fetch-site': 'same-origin' } })
    },
  },

  ERR_BACKCHANNEL_REQUEST_INVALID: { channel: 'backchannel-logout', auth: { backchannelLogout: true }, run: (stack) => postForm(stack, {}) },
  ERR_LOGOUT_TOKEN_INVALID: { channel: 'backchannel-logout', auth: { backchannelLogout: true }, run: (stack) => postForm(stack, { logout_token: 'not.a.token' }) },
  ERR_LOGOUT_TOKEN_REPLAYED: {
    channel: 'backchannel-logout',
    auth: { backchannelLogout: true },
    run: async (stack) => {
      const token = await logoutToken(stack)
      expect((await postForm(stack, { logout_token: token })).status).toBe(200)
      seen.length = 0
      return postForm(stack, { logout_token: token })
    },
  },
}

/** Codes no login, callback, logout, refresh or back-channel logout ends with, and why. */
const NOT_AN_EVENT: Record<string, string> = {
  ERR_UNAUTHENTICATED:
    'requiresAuth() and req.oidc.fetch() without a login start no operation (express-par:refresh carries it only when a login ends while its refresh runs)',
  ERR_SESSION_MISSING: 'answered before any route runs (no session, so no operation started)',
  ERR_RESOURCE_UNREACHABLE: 'a resource call of req.oidc.fetch(), not a login operation (its refresh, if any, is an event)',
  ERR_RESOURCE_TIMEOUT: 'a resource call of req.oidc.fetch(), not a login operation (its refresh, if any, is an event)',
}

describe.each(Object.entries(CASES))('%s', (code, { channel, auth, store, run }) => {
  let stack: HostileStack
  beforeAll(async () => {
    stack = await startHostileStack({ auth: auth as Partial<AuthOptions>, routes: refreshingRoute, ...(store && { store: store() }) })
  })
  afterAll(() => stack.close())

  test(`ends with one express-par:${channel} event carrying ${code}`, async () => {
    seen.length = 0
    await run(stack)
    const failures = seen.filter((s) => s.event.outcome === 'failure')
    expect(failures).toEqual([{ channel, event: expect.objectContaining({ outcome: 'failure', code, clientID: HOSTILE_CLIENT_ID, name: 'default', issuer: stack.op.issuer }) }])
    expect(JSON.stringify(seen)).not.toContain('10.0.0.9') // the coordination store's address stays in err.cause
  })
})

test('every code of ERROR_STATUS is either produced above or listed as not an event', () => {
  const classified = new Set([...Object.keys(CASES), ...Object.keys(NOT_AN_EVENT)])
  expect(Object.keys(ERROR_STATUS).filter((code) => !classified.has(code))).toEqual([])
  expect([...classified].filter((code) => !(code in ERROR_STATUS))).toEqual([])
})
