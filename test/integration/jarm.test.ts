/**
 * JARM (`responseMode: 'jwt'`) against oidc-provider with `features.jwtResponseModes`: the happy
 * paths (alone, and JAR + JARM + RFC 9396 authorization_details + DPoP in one login), the OP's own
 * error answers inside the signed response (the user cancels; prompt=none without an OP session,
 * which attemptSilentLogin() takes quietly), an OP without JARM, and a plain `code=` callback forged
 * from a real JARM login. The misbehaviours a real OP will not produce are in hostile-jarm.test.ts
 * and, for the FAPI 2.0 Message Signing conformance modules, test/fapi/message-signing.test.ts.
 */

import type express from 'express'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { attemptSilentLogin, type AuthOptions } from 'express-par'
import { DEMO_PAYMENT, PAYMENT_TYPE, rarOpFeatures } from '../../example-app/rar-mode.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'
import { inFormat, testKey } from '../support/keys.js'
import { storedAuth, storedSession } from '../support/session-store.js'
import { CLIENT_ID, startStack, type Stack, type StackOptions } from '../support/stack.js'

const JARM = { jwtResponseModes: { enabled: true } }
const JWKS_ROUTE = '/.well-known/jwks.json'

type Params = Record<string, unknown>
/** The authorization parameters oidc-provider took from each pushed request (the request object's, with JAR). */
const pushedParams = (stack: Stack): Params[] =>
  stack.opEvents.filter((e) => e.name === 'pushed_authorization_request.success').map((e) => ({ ...(e.args[0] as { oidc: { params: Params } }).oidc.params }))
const pushedBodies = (stack: Stack): Params[] =>
  stack.opEvents.filter((e) => e.name === 'pushed_authorization_request.success').map((e) => ({ ...(e.args[0] as { oidc: { body: Params } }).oidc.body }))
const grants = (stack: Stack) => stack.opEvents.filter((e) => e.name === 'grant.success' || e.name === 'grant.error')

/** The app's view of the login: who, and the RFC 9396 details granted. */
function detailsRoute(app: express.Express): void {
  app.get('/details', (req, res) => res.json({ sub: req.oidc.user?.sub ?? null, authorizationDetails: req.oidc.authorizationDetails ?? null, tokenType: req.oidc.accessToken?.token_type ?? null }))
}

async function withStack(options: StackOptions, run: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack({ opFeatures: JARM, client: { authorization_signed_response_alg: 'RS256' }, routes: detailsRoute, ...options, auth: { responseMode: 'jwt', ...options.auth } })
  try {
    await run(stack)
  } finally {
    await stack.close()
  }
}

/** The JARM response's claims and header, from a callback URL (decoded, not verified: the test reads what the OP sent). */
function jarmOf(callback: string) {
  const url = new URL(callback)
  const response = url.searchParams.get('response')!
  return { names: [...url.searchParams.keys()], header: decodeProtectedHeader(response), claims: decodeJwt(response) }
}

test("a JARM login: response_mode=jwt is pushed, the OP's signed response is all the callback carries, and the user is logged in", async () => {
  await withStack({}, async (stack) => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    expect(pushedParams(stack)).toEqual([expect.objectContaining({ response_mode: 'jwt', response_type: 'code' })])
    const { names, header, claims } = jarmOf(callback)
    expect(names).toEqual(['response'])
    expect(header).toMatchObject({ alg: 'RS256', kid: 'local-op-1' })
    expect(claims).toMatchObject({ iss: stack.issuer, aud: CLIENT_ID, state: pushedParams(stack)[0]!.state, code: expect.any(String) })
    expect(claims.exp! - Math.floor(Date.now() / 1000)).toBeGreaterThan(0)

    const done = await browser.request(callback)
    expect({ status: done.status, errors: stack.errors }).toEqual({ status: 302, errors: [] })
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body)).toEqual({ sub: 'alice', authorizationDetails: null, tokenType: 'bearer' })
    expect(grants(stack).map((e) => e.name)).toEqual(['grant.success'])
  })
})

test('JAR + JARM + authorization_details + DPoP in one login: the payment is signed into the request object, the response is signed by the OP, and the granted details are readable in the app', async () => {
  const key = await testKey('PS256')
  const options: StackOptions = {
    opFeatures: { ...JARM, requestObjects: { enabled: true, requireSignedRequestObject: true }, dPoP: { enabled: true }, ...rarOpFeatures() },
    opConfiguration: { fetch: jwksFetch },
    client: (baseURL) => ({
      authorization_signed_response_alg: 'RS256',
      require_signed_request_object: true,
      request_object_signing_alg: 'PS256',
      jwks_uri: `${baseURL}${JWKS_ROUTE}`,
      dpop_bound_access_tokens: true,
      authorization_details_types: [PAYMENT_TYPE],
    }),
    auth: {
      requestObjectSigningKey: await inFormat(key, 'PEM'),
      routes: { jwks: JWKS_ROUTE },
      dpop: true,
      authorizationParams: { scope: 'openid profile', authorization_details: [DEMO_PAYMENT] },
    } as Partial<AuthOptions>,
  }
  await withStack(options, async (stack) => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)

    const [body] = pushedBodies(stack)
    expect(Object.keys(body!).sort()).toEqual(['client_id', 'request'])
    const requestObject = decodeJwt(body!.request as string)
    expect(requestObject).toMatchObject({ aud: stack.issuer, response_mode: 'jwt', authorization_details: [DEMO_PAYMENT] })
    expect(requestObject.exp! - requestObject.nbf!).toBeLessThanOrEqual(60 * 60)
    expect(jarmOf(callback).names).toEqual(['response'])

    const done = await browser.request(callback)
    expect({ status: done.status, errors: stack.errors }).toEqual({ status: 302, errors: [] })
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body)).toEqual({ sub: 'alice', authorizationDetails: [DEMO_PAYMENT], tokenType: 'dpop' })
    // Stored as plain JSON with the login, like the rest of it.
    expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))?.authorizationDetails).toEqual([DEMO_PAYMENT])
  })
})

test('the user cancels at the OP: access_denied arrives inside the signed response and is ERR_LOGIN_REFUSED, with no session and no token request', async () => {
  await withStack({}, async (stack) => {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    const callback = await authorizeAtOP(browser, start.headers.get('location')!, stack.callbackPrefix, { abort: true })
    const { names, claims } = jarmOf(callback)
    expect({ names, error: claims.error }).toEqual({ names: ['response'], error: 'access_denied' })
    const page = await browser.request(callback)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_REFUSED' })
    expect(stack.errors.at(-1)).toMatchObject({ error: 'access_denied' })
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body).sub).toBeNull()
    expect(grants(stack)).toEqual([])
  })
})

test("attemptSilentLogin(): the OP's login_required inside the JARM response returns the browser to its page, anonymous, without an error", async () => {
  const routes = (app: express.Express) => {
    app.use(attemptSilentLogin())
    app.get('/page', (req, res) => res.json({ authenticated: req.oidc.isAuthenticated() }))
  }
  await withStack({ routes }, async (stack) => {
    const browser = new TestBrowser()
    const navigation = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' }
    const toOP = await browser.request(`${stack.baseURL}/page`, { headers: navigation })
    const callback = (await browser.request(toOP.headers.get('location')!)).headers.get('location')!
    expect(jarmOf(callback)).toMatchObject({ names: ['response'], claims: { error: 'login_required' } })
    const back = await browser.request(callback, { headers: navigation })
    expect({ status: back.status, location: back.headers.get('location') }).toEqual({ status: 302, location: '/page' })
    expect(JSON.parse((await browser.request(`${stack.baseURL}/page`, { headers: navigation })).body)).toEqual({ authenticated: false })
    expect(stack.errors).toEqual([])
  })
})

test('a plain code= callback, made from a real JARM response, is refused when JARM was asked for: the code never reaches the token endpoint, and the login is spent', async () => {
  await withStack({}, async (stack) => {
    const browser = stack.browser()
    const callback = await stack.authorize(browser)
    const { claims } = jarmOf(callback)
    const plain = new URL(stack.callbackPrefix)
    for (const name of ['code', 'state', 'iss'] as const) plain.searchParams.set(name, String(claims[name]))
    const page = await browser.request(plain.href)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 400, code: 'ERR_CALLBACK_INVALID' })
    expect(stack.errors.at(-1)!.message).toMatch(/plain authorization response, which nobody signed, but this login asked for a signed one \(`responseMode: 'jwt'`, JARM\)/)
    expect(grants(stack)).toEqual([])
    // Spent: the genuine JARM response afterwards finds no pending login.
    const genuine = await browser.request(callback)
    expect({ status: genuine.status, code: JSON.parse(genuine.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_NOT_PENDING' })
    expect(grants(stack)).toEqual([])
  })
})

test("an OP that does not offer JARM (no jwt in response_modes_supported) fails the first login with ERR_CONFIG_INVALID saying so; nothing is pushed", async () => {
  await withStack({ opFeatures: {}, client: {} }, async (stack) => {
    const page = await stack.browser().request(`${stack.baseURL}/login`)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' })
    expect(stack.errors[0]!.message).toMatch(
      /`responseMode: 'jwt'` asks the OP to sign its authorization responses \(JARM\), but the OP at http:\/\/127\.0\.0\.1:\d+ does not offer it: its response_modes_supported is form_post, fragment, query, without "jwt"\. Enable JARM at the OP/,
    )
    expect(stack.opRequests).not.toContain('/request')
  })
})

/**
 * oidc-provider refuses to fetch from loopback addresses (SSRF protection); here it may fetch the
 * app's jwks_uri, on this machine.
 */
function jwksFetch(url: string, options: RequestInit & { dispatcher?: unknown }): Promise<Response> {
  if (!url.endsWith(JWKS_ROUTE)) return fetch(url, options)
  const { dispatcher: _ssrfProtection, ...rest } = options
  return fetch(url, rest)
}
