/**
 * The audit trail on node:diagnostics_channel: one event per outcome, with the fields DESIGN.md
 * fixes, and nothing secret in it. (Every error code: events-codes.test.ts.)
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import type { ExpressParEvent } from '../../lib/events.js'
import { auditedEvents } from '../support/event-audit.js'
import { sessionId } from '../support/session-store.js'
import { CLIENT_ID, startStack, type Stack } from '../support/stack.js'

const CHANNELS = ['login', 'callback', 'logout', 'refresh', 'backchannel-logout'].map((name) => `express-par:${name}`)
const seen: Array<{ channel: string; event: ExpressParEvent }> = []
const listeners = CHANNELS.map((channel) => [channel, (event: unknown) => seen.push({ channel, event: event as ExpressParEvent })] as const)

let stack: Stack
beforeAll(async () => {
  stack = await startStack({
    client: { grant_types: ['authorization_code', 'refresh_token'] },
    opConfiguration: { issueRefreshToken: () => true, rotateRefreshToken: true },
    appRoutes: (app) =>
      app.post('/refresh', (req, res, next) => {
        req.oidc.accessToken!.refresh().then(() => res.json({ ok: true }), next)
      }),
  })
  for (const [channel, listener] of listeners) subscribe(channel, listener)
})
afterAll(async () => {
  for (const [channel, listener] of listeners) unsubscribe(channel, listener)
  await stack.close()
})
beforeEach(() => {
  seen.length = 0
})

const on = (channel: string) => seen.filter((s) => s.channel === `express-par:${channel}`).map((s) => s.event)

test('a login publishes one login and one callback event with who, how and through which OP', async () => {
  const browser = stack.browser()
  const callback = await stack.authorize(browser)
  const preLoginSession = sessionId(browser, stack.baseURL)
  expect(on('login')).toEqual([{ outcome: 'success', issuer: stack.issuer, clientID: CLIENT_ID, name: 'default', durationMs: expect.any(Number), session: expect.any(String) }])
  expect((await browser.request(callback)).status).toBe(302)
  const [event, ...more] = on('callback')
  expect(more).toEqual([])
  expect(event).toEqual({ outcome: 'success', issuer: stack.issuer, clientID: CLIENT_ID, name: 'default', sub: 'alice', durationMs: expect.any(Number), session: expect.any(String) })
  expect(event!.durationMs).toBeGreaterThan(0)
  // The session is a digest, the same for one session id, never the id itself; after the login it names the new session.
  expect(event!.session).toMatch(/^[\w-]{22}$/)
  expect(event!.session).not.toBe(on('login')[0]!.session)
  expect(JSON.stringify(seen)).not.toContain(preLoginSession!)
  expect(JSON.stringify(seen)).not.toContain(sessionId(browser, stack.baseURL)!)
})

test('a refused callback publishes its code and the OP’s error, and an attacker’s error text never', async () => {
  const browser = stack.browser()
  const callback = new URL(await stack.authorize(browser))
  callback.searchParams.delete('code')
  callback.searchParams.set('error', 'access_denied')
  await browser.request(callback.href)
  expect(on('callback')).toEqual([expect.objectContaining({ outcome: 'failure', code: 'ERR_LOGIN_REFUSED', error: 'access_denied' })])

  seen.length = 0
  const forged = new URL(await stack.authorize(browser))
  forged.searchParams.delete('code')
  forged.searchParams.set('error', '<script>alert(1)</script>')
  await browser.request(forged.href)
  const [refused] = on('callback')
  expect(refused).toMatchObject({ outcome: 'failure', code: 'ERR_LOGIN_REFUSED' })
  expect(refused).not.toHaveProperty('error')
})

test('a logout publishes who logged out; a refresh publishes its outcome', async () => {
  const browser = stack.browser()
  await stack.login(browser)
  expect((await browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })).status).toBe(200)
  expect(on('refresh')).toEqual([expect.objectContaining({ outcome: 'success', sub: 'alice', name: 'default' })])
  await browser.request(`${stack.baseURL}/logout`, { headers: { 'sec-fetch-site': 'same-origin' } })
  expect(on('logout')).toEqual([expect.objectContaining({ outcome: 'success', sub: 'alice' })])
})

test('the secret scan of every test file (test/support/event-audit.ts) saw these events', () => {
  expect(auditedEvents()).toBeGreaterThan(5)
})
