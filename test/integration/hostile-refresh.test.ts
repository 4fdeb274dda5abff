/**
 * Refresh responses a real OP will not send: a refreshed ID token that speaks of another login
 * (OpenID Connect Core §12.2), one that fails openid-client's checks, and answers without a new
 * refresh token. A refreshed ID token that fails is the end of the login; an answer that keeps
 * the refresh token keeps the old one.
 */

import type { NextFunction, Request, Response } from 'express'
import { useHostileStack } from '../support/hostile-stack.js'
import { PATHS } from '../support/hostile-op.js'
import { storedAuth } from '../support/session-store.js'
import type { TestBrowser } from '../support/browser.js'

const stack = useHostileStack({
  routes: (app) => {
    app.post('/refresh', (req: Request, res: Response, next: NextFunction) => {
      req.oidc.accessToken!
        .refresh()
        .then((token) => res.json({ access_token: token.access_token }))
        .catch(next)
    })
  },
})

async function loggedIn(): Promise<TestBrowser> {
  const browser = stack.browser()
  await stack.expectLoggedIn(await stack.login(browser), browser)
  return browser
}

const refresh = (browser: TestBrowser) => browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })
const code = (page: { body: string }) => (JSON.parse(page.body) as { code: string }).code
const refreshGrants = () => stack.op.requests.filter((r) => r.path === PATHS.token && r.body.get('grant_type') === 'refresh_token').length

test('a refresh with a valid refreshed ID token replaces the tokens and keeps the login', async () => {
  const browser = await loggedIn()
  const before = storedAuth((await stack.sessions())[0])!
  const answer = await refresh(browser)
  expect(answer.status).toBe(200)
  const after = storedAuth((await stack.sessions())[0])!
  expect(after.accessToken).toBe(JSON.parse(answer.body).access_token)
  expect(after.idToken).not.toBe(before.idToken)
  expect(after.claims.sub).toBe('alice')
})

test.each([
  ['another sub', { sub: 'mallory' }],
  ['another iss', { iss: 'https://other-op.example' }],
  ['another aud', { aud: 'another-client' }],
  ['an azp the login had none of', { azp: 'hostile-client' }],
  ['an auth_time the login had none of', { auth_time: 1 }],
])('a refreshed ID token with %s ends the login (ERR_ID_TOKEN_INVALID, OpenID Connect Core §12.2)', async (_case, change) => {
  const browser = await loggedIn()
  stack.op.bend.idToken = (c) => c.sign({ ...c.claims, ...change })
  const answer = await refresh(browser)
  expect(answer.status).toBe(502)
  expect(code(answer)).toBe('ERR_ID_TOKEN_INVALID')
  expect(refreshGrants()).toBe(1)
  expect(await stack.anyLoggedIn()).toBe(false)
})

test('a refreshed ID token signed with an unknown key ends the login', async () => {
  const browser = await loggedIn()
  const stranger = await stack.op.newKey('RS256', 'not-published')
  stack.op.bend.idToken = (c) => c.sign(c.claims, { key: stranger })
  const answer = await refresh(browser)
  expect(code(answer)).toBe('ERR_ID_TOKEN_INVALID')
  expect(await stack.anyLoggedIn()).toBe(false)
})

test('an expired refreshed ID token ends the login', async () => {
  const browser = await loggedIn()
  stack.op.bend.idToken = (c) => c.sign({ ...c.claims, exp: Math.floor(Date.now() / 1000) - 3600 })
  expect(code(await refresh(browser))).toBe('ERR_ID_TOKEN_INVALID')
  expect(await stack.anyLoggedIn()).toBe(false)
})

test('an answer without a new refresh token keeps the old one', async () => {
  const browser = await loggedIn()
  const before = storedAuth((await stack.sessions())[0])!
  stack.op.bend.token = (valid) => {
    const { refresh_token: _dropped, ...body } = valid.body as Record<string, unknown>
    return { ...valid, body }
  }
  expect((await refresh(browser)).status).toBe(200)
  const after = storedAuth((await stack.sessions())[0])!
  expect(after.refreshToken).toBe(before.refreshToken)
  expect(after.accessToken).not.toBe(before.accessToken)
})

test('an answer without an ID token keeps the login’s ID token and claims', async () => {
  const browser = await loggedIn()
  const before = storedAuth((await stack.sessions())[0])!
  stack.op.bend.token = (valid) => {
    const { id_token: _dropped, ...body } = valid.body as Record<string, unknown>
    return { ...valid, body }
  }
  expect((await refresh(browser)).status).toBe(200)
  const after = storedAuth((await stack.sessions())[0])!
  expect(after.idToken).toBe(before.idToken)
  expect(after.claims).toEqual(before.claims)
})

test('a malformed refresh answer leaves the session as it was (502 ERR_TOKEN_RESPONSE_INVALID)', async () => {
  const browser = await loggedIn()
  const before = storedAuth((await stack.sessions())[0])!
  stack.op.bend.token = () => ({ status: 200, body: 'not json' })
  const answer = await refresh(browser)
  expect(answer.status).toBe(502)
  expect(code(answer)).toBe('ERR_TOKEN_RESPONSE_INVALID')
  expect(storedAuth((await stack.sessions())[0])).toEqual(before)
})
