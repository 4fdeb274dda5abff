/**
 * DPoP (RFC 9449) against the real OP (oidc-provider with DPoP on, server nonces required): a
 * fresh key per login whose proof goes with PAR (the OP binds the code to it) and the token
 * request, DPoP-bound tokens, the key kept server-side only, nonces remembered so that a login
 * after the first pays no `use_dpop_nonce` round trip, and `req.oidc.fetch()` / refresh with the
 * login's key. The misbehaviours (downgrade) are in hostile-dpop.test.ts; the FAPI 2.0 OP over
 * HTTPS in test/fapi/.
 */

import { randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, decodeJwt, type JWK } from 'jose'
import { startStack, type Stack } from '../support/stack.js'
import { storedPending, storedSession } from '../support/session-store.js'

interface Seen {
  path: string
  dpop: string | undefined
  status: number
  error?: string
}

let stack: Stack
const seen: Seen[] = []

beforeAll(async () => {
  stack = await startStack({
    auth: { dpop: true, authorizationParams: { scope: 'openid offline_access', prompt: 'consent' } },
    client: { dpop_bound_access_tokens: true, grant_types: ['authorization_code', 'refresh_token'] },
    opFeatures: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } },
    appRoutes: (app, issuer) => {
      app.get('/test/refresh', (req, res, next) => {
        req.oidc.accessToken!.refresh().then((token) => res.json({ token_type: token.token_type }), next)
      })
      app.get('/test/userinfo', (req, res, next) => {
        req.oidc
          .fetch(`${issuer}/me`)
          .then(async (answer) => res.status(answer.status).json(await answer.json()), next)
      })
    },
    opMiddleware: [
      async (ctx, next) => {
        await next()
        const body = ctx.body as { error?: string } | undefined
        seen.push({ path: ctx.path, dpop: ctx.get('dpop') || undefined, status: ctx.status, ...(typeof body?.error === 'string' && { error: body.error }) })
      },
    ],
  })
})
afterAll(() => stack.close())
beforeEach(() => {
  seen.length = 0
  stack.errors.length = 0
})

const at = (path: string) => seen.filter((s) => s.path === path)
const jkt = (proof: string) => calculateJwkThumbprint(decodeProtectedHeader(proof).jwk as JWK)

test('a DPoP login: the PAR and token requests carry proofs of one fresh key, and the tokens are DPoP-bound', async () => {
  const browser = stack.browser()
  const callback = await stack.authorize(browser)
  const pending = Object.values(storedPending(storedSession(stack.store, browser, stack.baseURL))!)[0]!
  expect(pending.d).toMatchObject({ alg: 'ES256', privateJwk: { kty: 'EC', crv: 'P-256', d: expect.any(String) }, publicJwk: { kty: 'EC' } })
  expect(pending.d!.publicJwk).not.toHaveProperty('d')
  // Nothing of the key pair leaves the server: the cookie is the session id, the URL has client_id and request_uri.
  expect(browser.cookie(stack.baseURL, 'connect.sid')).not.toContain(pending.d!.privateJwk.d)

  const done = await browser.request(callback)
  expect(done.status).toBe(302)
  expect(stack.errors).toEqual([])

  const par = at('/request').filter((s) => s.status === 201)
  const token = at('/token').filter((s) => s.status === 200)
  expect(par).toHaveLength(1)
  expect(token).toHaveLength(1)
  const thumbprint = await calculateJwkThumbprint(pending.d!.publicJwk)
  expect(await jkt(par[0]!.dpop!)).toBe(thumbprint)
  expect(await jkt(token[0]!.dpop!)).toBe(thumbprint)
  expect(decodeJwt(par[0]!.dpop!)).toMatchObject({ htm: 'POST', htu: `${stack.issuer}/request`, nonce: expect.any(String) })

  const login = storedSession(stack.store, browser, stack.baseURL)!.expressPar!.default!.login!
  expect(login.auth.tokenType).toBe('dpop') // oauth4webapi lowercases token_type
  expect(login.dpop).toEqual(pending.d)
})

test('each login gets its own key', async () => {
  const keys = []
  for (let i = 0; i < 2; i++) {
    const browser = stack.browser()
    await stack.authorize(browser)
    keys.push(Object.values(storedPending(storedSession(stack.store, browser, stack.baseURL))!)[0]!.d!.publicJwk)
  }
  expect(keys[0]).not.toEqual(keys[1])
})

test('server nonces are remembered: once a nonce is known, PAR and the token request are not refused for the lack of one', async () => {
  const first = stack.browser()
  expect((await stack.login(first)).status).toBe(302)
  seen.length = 0
  const second = stack.browser()
  expect((await stack.login(second)).status).toBe(302)
  expect(seen.filter((s) => s.error === 'use_dpop_nonce')).toEqual([])
  expect(at('/request').map((s) => s.status)).toEqual([201])
  expect(at('/token').map((s) => s.status)).toEqual([200])
})

test('a refresh and req.oidc.fetch() use the login\'s key', async () => {
  const browser = stack.browser()
  expect((await stack.login(browser)).status).toBe(302)
  const login = storedSession(stack.store, browser, stack.baseURL)!.expressPar!.default!.login!
  const thumbprint = await calculateJwkThumbprint(login.dpop!.publicJwk)
  seen.length = 0

  const refreshed = await browser.request(`${stack.baseURL}/test/refresh`)
  expect(refreshed.status).toBe(200)
  expect(JSON.parse(refreshed.body)).toMatchObject({ token_type: 'dpop' })
  const refresh = at('/token').filter((s) => s.status === 200)
  expect(refresh).toHaveLength(1)
  expect(await jkt(refresh[0]!.dpop!)).toBe(thumbprint)

  const userinfo = await browser.request(`${stack.baseURL}/test/userinfo`)
  expect(userinfo.status).toBe(200)
  expect(JSON.parse(userinfo.body)).toMatchObject({ sub: 'alice' })
  const me = at('/me').filter((s) => s.status === 200)
  expect(me).toHaveLength(1)
  expect(await jkt(me[0]!.dpop!)).toBe(thumbprint)
  expect(decodeJwt(me[0]!.dpop!)).toMatchObject({ htm: 'GET', htu: `${stack.issuer}/me`, ath: expect.any(String) })
})
