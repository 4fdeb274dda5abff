/**
 * Interop: logins through express-par, in headless Chromium, against Glewlwyd 2.7 from Debian, an
 * OpenID Provider written independently of oidc-provider (in C). Each row of the README's
 * "Compatibility" table for Glewlwyd is a test here: the logins that work are driven end to end,
 * and each deviation is pinned by a test that shows both the failure and its cause.
 */

import express from 'express'
import { createRemoteJWKSet, decodeProtectedHeader, importPKCS8, jwtVerify } from 'jose'
import * as oauth from 'oauth4webapi'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../e2e/support/chromium.js'
import { appErrorCode, profileClaims } from '../e2e/support/example.js'
import { journeyTest, type Journey } from '../e2e/support/journey.js'
import { startGlewlwyd, type Glewlwyd } from './support/glewlwyd.js'
import { setUpOP, USER, type GlewlwydOP } from './support/glewlwyd-op.js'
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
