/**
 * An OP that does not rotate refresh tokens (the answer has no refresh_token: Google, Auth0
 * without rotation, ...) keeps the refresh token the same. A refresh published under the refresh
 * token alone would then be "joined" by every later refresh for five minutes: no grant, and an
 * expired access token handed back. The flight is named by the token generation too, so each
 * refresh of a new generation makes its grant. (Found by the security review.)
 */

import type { NextFunction, Request, Response } from 'express'
import { useHostileStack } from '../support/hostile-stack.js'
import { PATHS } from '../support/hostile-op.js'
import { storedAuth } from '../support/session-store.js'
import type { TestBrowser } from '../support/browser.js'

const stack = useHostileStack({
  auth: { clockTolerance: 1 },
  routes: (app) => {
    app.post('/refresh', (req: Request, res: Response, next: NextFunction) => {
      req.oidc.accessToken!
        .refresh()
        .then((token) => res.json({ access_token: token.access_token, expires_in: token.expires_in }))
        .catch(next)
    })
  },
})

async function loggedIn(): Promise<TestBrowser> {
  const browser = stack.browser()
  await stack.expectLoggedIn(await stack.login(browser), browser)
  return browser
}

const refresh = async (browser: TestBrowser) => JSON.parse((await browser.request(`${stack.baseURL}/refresh`, { method: 'POST' })).body) as { access_token: string; expires_in: number }
const refreshGrants = () => stack.op.requests.filter((r) => r.path === PATHS.token && r.body.get('grant_type') === 'refresh_token').length

/** An OP whose refresh answers keep the refresh token (no refresh_token in the answer) and give short-lived access tokens. */
function nonRotatingOP(): void {
  stack.op.bend.token = (valid, request) => {
    const body: Record<string, unknown> = { ...(valid.body as Record<string, unknown>), expires_in: 2 }
    if (request.body.get('grant_type') === 'refresh_token') {
      const login = stack.op.logins.find((l) => l.refreshToken === body.refresh_token)!
      login.refreshToken = request.body.get('refresh_token')! // the same refresh token stays valid
      delete body.refresh_token
    }
    return { ...valid, body }
  }
}

test('a second refresh() with a non-rotating OP makes its own grant and returns a new access token', async () => {
  nonRotatingOP()
  const browser = await loggedIn()
  const first = await refresh(browser)
  expect(refreshGrants()).toBe(1)
  await new Promise((resolve) => setTimeout(resolve, 2500)) // the refreshed access token (2 s) has expired
  const second = await refresh(browser)
  expect(refreshGrants()).toBe(2)
  expect(second.access_token).not.toBe(first.access_token)
  expect(second.expires_in).toBeGreaterThan(0)
  expect(storedAuth((await stack.sessions())[0])!.accessToken).toBe(second.access_token)
})
