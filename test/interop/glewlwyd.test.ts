/**
 * Interop: logins through express-par, in headless Chromium, against Glewlwyd 2.7 from Debian, an
 * OpenID Provider written independently of oidc-provider (in C). Each row of the README's
 * "Compatibility" table for Glewlwyd is a test here: the logins that work are driven end to end,
 * and each deviation is pinned by a test that shows both the failure and its cause.
 *
 * GLEWLWYD_LOG_LEVEL=DEBUG npm run test:interop prints Glewlwyd's log after the suite: its error
 * answers have empty bodies, so the log is where it says why it refused something.
 */

import express from 'express'
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importPKCS8, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../e2e/support/chromium.js'
import { appErrorCode, profileClaims } from '../e2e/support/example.js'
import { journeyTest, type Journey } from '../e2e/support/journey.js'
import { startGlewlwyd, type Glewlwyd } from './support/glewlwyd.js'
import { RAR_TYPE, setUpOP, USER, type GlewlwydOP } from './support/glewlwyd-op.js'
import { atGlewlwyd, confirmEndSession, signInAtGlewlwyd } from './support/glewlwyd-pages.js'
import { keygen, type KeygenOutput } from './support/keygen.js'
import { startRP, type RP, type RPOptions } from './support/rp.js'

// Client ids and secrets of letters and digits only, unless a test is about that (see client_secret_basic below).
const SECRET = 'Interop0Secret0For0Glewlwyd'
const BACKCHANNEL_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

let browser: Browser
let glewlwyd: Glewlwyd
let op: GlewlwydOP
let metadata: oauth.AuthorizationServer
let psKey: KeygenOutput
const rps: RP[] = []

beforeAll(async () => {
  glewlwyd = await startGlewlwyd()
  op = await setUpOP(glewlwyd)
  metadata = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as oauth.AuthorizationServer
  browser = await launchChromium()
  psKey = await keygen('PS256')
}, 30_000)

afterAll(async () => {
  if (process.env.GLEWLWYD_LOG_LEVEL) console.log(glewlwyd?.log())
  await Promise.all(rps.map((rp) => rp.close()))
  await browser?.close()
  await glewlwyd?.close()
})

async function rp(options: RPOptions): Promise<RP> {
  const started = await startRP(op, options)
  rps.push(started)
  return started
}

/** The app's answer to `GET /login` without a browser: where it sends the browser, or its error code. */
async function startLogin(app: RP): Promise<{ status: number; location: string | null; code: string | undefined }> {
  const response = await fetch(`${app.baseURL}/login`, { redirect: 'manual' })
  const body = await response.text()
  return { status: response.status, location: response.headers.get('location'), code: /id="error-code">([A-Z_]+)</.exec(body)?.[1] }
}

/** Reads `/api/me` with the browser's cookies: 200 while logged in, 401 after. */
async function apiMeStatus(page: Page, app: RP): Promise<number> {
  return (await page.request.get(`${app.baseURL}/api/me`, { headers: { accept: 'application/json' } })).status()
}

/** Clicks `selector` and waits until the tab has committed and loaded its next page (even at the same URL). */
async function clickAndWaitForNavigation(page: Page, selector: string): Promise<void> {
  const navigated = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame())
  await page.click(selector)
  await navigated
  await page.waitForLoadState()
}

/**
 * Records, in `page`, the front channel of one login: the authorization requests the app redirected
 * the browser to (Glewlwyd's own login page later requests the same endpoint, adding `g_continue`),
 * and the callback URL.
 */
function watchFrontChannel(page: Page, app: RP) {
  const seen = { authorizationRequests: [] as URL[], callback: undefined as string | undefined }
  page.on('request', (request) => {
    const url = new URL(request.url())
    const from = request.redirectedFrom()
    if (from && new URL(from.url()).origin === app.baseURL && `${url.origin}${url.pathname}` === metadata.authorization_endpoint) seen.authorizationRequests.push(url)
    if (url.origin === app.baseURL && url.pathname === '/callback') seen.callback = request.url()
  })
  return seen
}

/** Records the bodies express-par posts to Glewlwyd's PAR endpoint (openid-client calls the global fetch). */
function recordPushes(): { bodies: URLSearchParams[]; stop(): void } {
  const realFetch = globalThis.fetch
  const bodies: URLSearchParams[] = []
  globalThis.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input)
    if (url === metadata.pushed_authorization_request_endpoint && init?.body) bodies.push(new URLSearchParams(String(init.body)))
    return realFetch(input, init)
  }
  return { bodies, stop: () => void (globalThis.fetch = realFetch) }
}

/** A PKCE authorization request for `app`, as a direct push to Glewlwyd would carry it. */
function pushParameters(app: RP): Record<string, string> {
  return {
    client_id: app.clientID,
    response_type: 'code',
    redirect_uri: `${app.baseURL}/callback`,
    scope: 'openid',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
  }
}

/** auth() options for JAR with `key`, the client authenticating with client_secret_post. */
function jarAuth(key: KeygenOutput, extra: Partial<RPOptions['auth']> = {}): RPOptions['auth'] {
  return { clientSecret: SECRET, clientAuthMethod: 'client_secret_post', requestObjectSigningKey: key.privateKeyPem, requestObjectSigningAlg: 'PS256', ...extra }
}

/** Resolves to `read()` once it returns a value, polling until `deadlineMs` passes. */
async function eventually<T>(read: () => T | undefined, deadlineMs: number, what: string): Promise<T> {
  const deadline = Date.now() + deadlineMs
  for (;;) {
    const value = read()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`Timed out after ${deadlineMs} ms waiting for ${what}.`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('Glewlwyd advertises PAR (required), PKCE S256 and end_session; not RFC 9207 iss, not back-channel logout', () => {
  expect(metadata).toMatchObject({
    issuer: op.issuer,
    pushed_authorization_request_endpoint: `${op.issuer}/par`,
    require_pushed_authorization_requests: true,
    code_challenge_methods_supported: ['S256'],
    end_session_endpoint: `${op.issuer}/end_session`,
  })
  expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']))
  expect(metadata.request_object_signing_alg_values_supported).toContain('PS256')
  // It does send iss (see the logins below) and logout tokens (see RP-initiated logout), without saying so.
  expect(metadata.authorization_response_iss_parameter_supported).toBeUndefined()
  expect(metadata.backchannel_logout_supported).toBeUndefined()
})

test('PAR required: Glewlwyd refuses an authorization request that was not pushed', async () => {
  const app = await rp({ clientID: 'rpnopush', auth: { clientSecret: SECRET }, client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_basic'] } })
  const plain = await fetch(`${metadata.authorization_endpoint}?${new URLSearchParams({ ...pushParameters(app), state: 'plain-state', nonce: 'plain-nonce' })}`, { redirect: 'manual' })
  // A bare 403: not the invalid_request redirect to the client of RFC 9126 §4 (for a registered redirect URI).
  expect(plain.status).toBe(403)
  expect(plain.headers.get('location')).toBeNull()
  // The same client gets through with a pushed request.
  expect(await startLogin(app)).toMatchObject({ status: 302 })
})

interface LoginMode {
  name: string
  clientID: string
  options(): Pick<RPOptions, 'auth' | 'client'>
  /** The parameter names of the PAR body. */
  pushed: string[]
}

const LOGIN_MODES: LoginMode[] = [
  {
    name: 'client_secret_basic',
    clientID: 'rpbasic',
    options: () => ({
      auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_basic' },
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_basic'] },
    }),
    pushed: ['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'],
  },
  {
    name: 'client_secret_post',
    clientID: 'rppost',
    options: () => ({
      auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_post' },
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post'] },
    }),
    pushed: ['client_id', 'client_secret', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state'],
  },
  {
    name: 'JAR: a request object signed with a PS256 key from `npx express-par keygen` (its JWKS registered), client_secret_post',
    clientID: 'rpjar',
    options: () => ({
      auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_post', requestObjectSigningKey: psKey.privateKeyPem, requestObjectSigningAlg: 'PS256' },
      // Glewlwyd takes the request object's signature for the client's authentication at PAR (see below).
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post', 'private_key_jwt'], jwks: psKey.jwks },
    }),
    pushed: ['client_id', 'client_secret', 'request'],
  },
]

describe.each(LOGIN_MODES)('PAR login, $name', (mode) => {
  journeyTest(
    'a deep link logs in through Glewlwyd: only client_id and request_uri in the front channel, claims, a refused replay, logout',
    () => browser,
    async (journey: Journey) => {
      const app = await rp({ clientID: mode.clientID, ...mode.options() })
      const page = await journey.newPage()
      const seen = watchFrontChannel(page, app)
      const pushes = recordPushes()
      const deepLink = `${app.baseURL}/profile?tab=claims&sort=name`
      try {
        await page.goto(deepLink)
        expect(atGlewlwyd(page, glewlwyd.origin)).toBe(true)
        expect(await signInAtGlewlwyd(page, app.baseURL, journey)).toEqual({ askedForPassword: true })
      } finally {
        pushes.stop()
      }

      // PAR: one push with the mode's parameters; the browser carried only client_id and request_uri.
      expect(pushes.bodies.map((body) => [...new Set(body.keys())].sort())).toEqual([mode.pushed])
      expect(seen.authorizationRequests.map((url) => [...url.searchParams.keys()].sort())).toEqual([['client_id', 'request_uri']])
      expect(seen.authorizationRequests[0]!.searchParams.get('client_id')).toBe(app.clientID)

      // The deep link survived, and the claims arrived (checked by express-par, recorded by afterCallback).
      expect(page.url()).toBe(deepLink)
      await journey.step(page, 'profile')
      const claims = await profileClaims(page)
      expect(claims).toMatchObject({ name: USER.name, email: USER.email })
      expect(app.idTokenClaims).toEqual([expect.objectContaining({ iss: op.issuer, aud: app.clientID, sub: claims.sub })])
      expect(typeof claims.sub === 'string' && claims.sub.length > 0).toBe(true)
      // RFC 9207: Glewlwyd puts its issuer on the callback (unadvertised); express-par compared it.
      expect(new URL(seen.callback!).searchParams.get('iss')).toBe(op.issuer)
      // OpenID Connect Core §2: auth_time is the time of the authentication; Glewlwyd sends 0.
      expect(app.idTokenClaims[0]!.auth_time).toBe(0)
      expect(await apiMeStatus(page, app)).toBe(200)

      // The callback replayed in the same browser: refused before any request to Glewlwyd.
      const replay = await page.goto(seen.callback!)
      expect(replay?.status()).toBe(400)
      expect(await appErrorCode(page)).toBe('ERR_LOGIN_NOT_PENDING')
      expect(app.idTokenClaims).toHaveLength(1)

      // Local logout.
      await page.goto(`${app.baseURL}/`)
      await clickAndWaitForNavigation(page, 'a:text-is("Log out")')
      expect(page.url()).toBe(`${app.baseURL}/`)
      expect(await page.locator('body').innerText()).toContain('You are not logged in')
      expect(await apiMeStatus(page, app)).toBe(401)
    },
  )
})

journeyTest('max_age: Glewlwyd sends auth_time 0 (OpenID Connect Core §2), so express-par refuses a login that asks for max_age', () => browser, async (journey) => {
  const app = await rp({
    clientID: 'rpmaxage',
    auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_post', authorizationParams: { scope: 'openid', max_age: '600' } },
    client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post'] },
  })
  const page = await journey.newPage()
  await page.goto(`${app.baseURL}/login`)
  await signInAtGlewlwyd(page, app.baseURL, journey)
  expect(new URL(page.url()).pathname).toBe('/callback')
  expect(await appErrorCode(page)).toBe('ERR_ID_TOKEN_INVALID')
  expect(await page.locator('body').innerText()).toContain('too much time has elapsed since the last End-User authentication')
  expect(await apiMeStatus(page, app)).toBe(401)
})

journeyTest(
  'RAR (RFC 9396): authorization_details pushed through PAR are granted by Glewlwyd, and express-par keeps what its token response grants',
  () => browser,
  async (journey) => {
    const details = [{ type: RAR_TYPE, locations: ['https://bank.example/payments'], actions: ['initiate'], datatypes: ['sepa'], instructedAmount: { currency: 'EUR', amount: '12.00' } }]
    const accessTokens: string[] = []
    const granted: unknown[] = []
    const app = await rp({
      clientID: 'rprar',
      auth: {
        clientSecret: SECRET,
        clientAuthMethod: 'client_secret_post',
        authorizationParams: { scope: 'openid', authorization_details: details },
        afterCallback: (_req, _res, session) => {
          if (session.accessToken) accessTokens.push(session.accessToken)
          granted.push(session.authorizationDetails)
          return session
        },
      },
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post'], authorization_details_types: [RAR_TYPE] },
    })
    const page = await journey.newPage()
    const seen = watchFrontChannel(page, app)
    const pushes = recordPushes()
    try {
      await page.goto(`${app.baseURL}/login`)
      await signInAtGlewlwyd(page, app.baseURL, journey)
    } finally {
      pushes.stop()
    }
    expect(pushes.bodies.map((body) => JSON.parse(body.get('authorization_details') ?? 'null'))).toEqual([details])
    expect(seen.authorizationRequests.map((url) => [...url.searchParams.keys()].sort())).toEqual([['client_id', 'request_uri']])
    expect(page.url()).toBe(`${app.baseURL}/`)
    // Glewlwyd granted them: they are in its RFC 9068 access token and its token response, which
    // express-par stored with the login (req.oidc.authorizationDetails).
    expect(accessTokens).toHaveLength(1)
    expect(decodeJwt(accessTokens[0]!).authorization_details).toEqual(details)
    expect(granted).toEqual([details])
  },
)

describe('deviations from the specifications, each with its cause', () => {
  test('client_secret_basic: Glewlwyd does not form-decode the Basic credentials (RFC 6749 §2.3.1), so an id or secret with "-" is refused; errors have empty bodies', async () => {
    const app = await rp({
      clientID: 'rp-dash',
      auth: { clientSecret: 'secret-with-dashes', clientAuthMethod: 'client_secret_basic' },
      client: { client_secret: 'secret-with-dashes', token_endpoint_auth_method: ['client_secret_basic'] },
    })
    expect(await startLogin(app)).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })

    // The same credentials without the form-encoding (`-` is sent as %2D) are accepted.
    const push = (authorization: string) =>
      fetch(metadata.pushed_authorization_request_endpoint!, { method: 'POST', headers: { authorization }, body: new URLSearchParams(pushParameters(app)) })
    expect((await push(`Basic ${btoa('rp-dash:secret-with-dashes')}`)).status).toBe(201)
    // A refusal is an empty 403, not the 401 with a JSON error of RFC 6749 §5.2 that RFC 9126 §2.3 refers to.
    const refused = await push(`Basic ${btoa('rp-dash:wrong-secret')}`)
    expect(refused.status).toBe(403)
    expect(await refused.text()).toBe('')
  })

  test('private_key_jwt: Glewlwyd accepts a client assertion only with aud = the endpoint URL, not its issuer (RFC 9126 §2), so the login is refused', async () => {
    const key = await keygen('PS256')
    const app = await rp({
      clientID: 'rpkeyjwt',
      auth: { clientAssertionSigningKey: key.privateKeyPem, clientAssertionSigningAlg: 'PS256' },
      client: { token_endpoint_auth_method: ['private_key_jwt'], jwks: key.jwks },
    })
    expect(await startLogin(app)).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })

    // The cause: the same key, in an assertion that only differs in its aud.
    const signingKey = { key: await importPKCS8(key.privateKeyPem, 'PS256'), kid: key.jwks.keys[0]!.kid }
    const push = async (aud: string) => {
      const auth = oauth.PrivateKeyJwt(signingKey, { [oauth.modifyAssertion]: (_header, payload) => void (payload.aud = aud) })
      return (await oauth.pushedAuthorizationRequest(metadata, { client_id: app.clientID }, auth, pushParameters(app), { [oauth.allowInsecureRequests]: true })).status
    }
    expect(await push(metadata.issuer)).toBe(401) // what openid-client, and so express-par, sends
    expect(await push(metadata.pushed_authorization_request_endpoint!)).toBe(201)
  })

  test('JAR: Glewlwyd verifies the request object, and takes its signature for the client authentication (RFC 9126 §2 and §3 keep them apart)', async () => {
    // Registered with client_secret_post alone: the push is refused although the secret is right.
    const postOnly = await rp({
      clientID: 'rpjarpostonly',
      auth: jarAuth(psKey),
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post'], jwks: psKey.jwks },
    })
    expect(await startLogin(postOnly)).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })

    // Registered as the JAR login above is: signed by another key under the registered key's kid, it is refused.
    const otherKey = await keygen('PS256')
    const forged = await rp({
      clientID: 'rpjarforged',
      auth: jarAuth(otherKey, { requestObjectSigningKeyId: psKey.jwks.keys[0]!.kid }),
      client: { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post', 'private_key_jwt'], jwks: psKey.jwks },
    })
    expect(await startLogin(forged)).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })
  })

  test('JAR with a jwks_uri: Glewlwyd reads a JWKS served as application/json, not as application/jwk-set+json (RFC 7517 §8.5.1), which routes.jwks serves', async () => {
    const client = (jwksUri: string) => ({ client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post', 'private_key_jwt'], jwks_uri: jwksUri })
    const served = await rp({
      clientID: 'rpjwksroute',
      auth: jarAuth(psKey, { routes: { jwks: '/.well-known/jwks.json' } }),
      client: (baseURL) => client(`${baseURL}/.well-known/jwks.json`),
    })
    const jwks = await fetch(`${served.baseURL}/.well-known/jwks.json`)
    expect(jwks.headers.get('content-type')).toBe('application/jwk-set+json; charset=utf-8')
    expect(((await jwks.json()) as KeygenOutput['jwks']).keys.map((k) => k.kid)).toEqual([psKey.jwks.keys[0]!.kid])
    expect(await startLogin(served)).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })

    const asJson = await rp({
      clientID: 'rpjwksjson',
      auth: jarAuth(psKey),
      client: (baseURL) => client(`${baseURL}/test/jwks.json`),
      routes: (router) => router.get('/test/jwks.json', (_req, res) => void res.type('application/json').send(JSON.stringify(psKey.jwks))),
    })
    const pushed = await startLogin(asJson)
    expect(pushed.status).toBe(302)
    expect(pushed.location?.startsWith(`${metadata.authorization_endpoint}?`)).toBe(true)
  })
})

describe('RP-initiated logout (idpLogout) through the end_session endpoint', () => {
  /** An app with idpLogout, whose client at Glewlwyd has a back-channel logout URI served by the app. */
  async function logoutApp(clientID: string): Promise<{ app: RP; logoutTokens: string[] }> {
    const logoutTokens: string[] = []
    const app = await rp({
      clientID,
      auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_post', idpLogout: true },
      client: (baseURL) => ({
        client_secret: SECRET,
        token_endpoint_auth_method: ['client_secret_post'],
        backchannel_logout_uri: `${baseURL}/test/backchannel-logout`,
        backchannel_logout_session_required: 'true',
      }),
      routes: (router) =>
        router.post('/test/backchannel-logout', express.urlencoded({ extended: false }), (req, res) => {
          logoutTokens.push(String(req.body.logout_token))
          res.status(200).end()
        }),
    })
    return { app, logoutTokens }
  }

  journeyTest(
    'Glewlwyd ends its session and sends a logout token, but without `state` it stays on its own page',
    () => browser,
    async (journey) => {
      const { app, logoutTokens } = await logoutApp('rplogout')
      const page = await journey.newPage()
      await page.goto(`${app.baseURL}/login`)
      await signInAtGlewlwyd(page, app.baseURL, journey)
      expect(page.url()).toBe(`${app.baseURL}/`)
      const [login] = app.idTokenClaims

      const endSessionRequests: URL[] = []
      page.on('request', (request) => {
        const url = new URL(request.url())
        if (`${url.origin}${url.pathname}` === metadata.end_session_endpoint) endSessionRequests.push(url)
      })
      await page.click('a:text-is("Log out")')
      await confirmEndSession(page, journey)
      await page.getByText('You are disconnected').waitFor()

      // express-par's request: id_token_hint, post_logout_redirect_uri, client_id; no state (optional in RP-Initiated Logout 1.0 §2).
      expect(endSessionRequests.map((url) => [...url.searchParams.keys()].sort())).toEqual([['client_id', 'id_token_hint', 'post_logout_redirect_uri']])
      expect(endSessionRequests[0]!.searchParams.get('post_logout_redirect_uri')).toBe(`${app.baseURL}/`)
      // Glewlwyd does not redirect there (RP-Initiated Logout 1.0 §3): the browser stays on its page.
      expect(atGlewlwyd(page, glewlwyd.origin)).toBe(true)
      expect(await apiMeStatus(page, app)).toBe(401)

      // Back-channel logout, unadvertised: a signed logout token (draft 06 shape: typ JWT, no exp).
      const token = await eventually(() => logoutTokens[0], 5000, 'the back-channel logout token')
      const { payload, protectedHeader } = await jwtVerify(token, createRemoteJWKSet(new URL(metadata.jwks_uri!)), { issuer: op.issuer, audience: app.clientID })
      expect(decodeProtectedHeader(token).typ).toBe('JWT')
      expect(protectedHeader.alg).toBe('RS256')
      expect(payload).toMatchObject({ sub: login!.sub, sid: login!.sid, events: { [BACKCHANNEL_EVENT]: {} } })
      expect(typeof payload.jti).toBe('string')
      expect(payload.exp).toBeUndefined() // REQUIRED by Back-Channel Logout 1.0 §2.4
      expect(payload.nonce).toBeUndefined()

      // The Glewlwyd session is over: the next login asks for the password again.
      await page.goto(`${app.baseURL}/login`)
      expect(await signInAtGlewlwyd(page, app.baseURL, journey)).toEqual({ askedForPassword: true })
      expect(app.idTokenClaims).toHaveLength(2)
    },
  )

  journeyTest(
    'the cause: the same end-session request with a `state` added returns the browser to post_logout_redirect_uri',
    () => browser,
    async (journey) => {
      const { app } = await logoutApp('rplogoutstate')
      const page = await journey.newPage()
      await page.goto(`${app.baseURL}/login`)
      await signInAtGlewlwyd(page, app.baseURL, journey)
      // The app's logout, with the browser's cookies, stopped at its redirect to Glewlwyd ...
      const logout = await page.request.get(`${app.baseURL}/logout`, { maxRedirects: 0, headers: { 'sec-fetch-site': 'same-origin' } })
      expect(logout.status()).toBe(302)
      const endSession = new URL(logout.headers().location!)
      expect(`${endSession.origin}${endSession.pathname}`).toBe(metadata.end_session_endpoint)
      // ... and followed with a state added, as the proposed change to express-par's logout would send it.
      endSession.searchParams.set('state', 'interop-state')
      await page.goto(endSession.href)
      await confirmEndSession(page, journey)
      await page.waitForURL(`${app.baseURL}/?state=interop-state`)
      expect(await page.locator('body').innerText()).toContain('You are not logged in')
      expect(await apiMeStatus(page, app)).toBe(401)
    },
  )
})
