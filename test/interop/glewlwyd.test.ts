/**
 * Interop: logins through express-par, in headless Chromium, against Glewlwyd 2.7 from Debian, an
 * OpenID Provider written independently of oidc-provider (in C). Each row of the README's
 * "Compatibility" table for Glewlwyd is a test here: the logins that work are driven end to end,
 * and each deviation is pinned by a test that shows both the failure and its cause.
 *
 * GLEWLWYD_LOG_LEVEL=DEBUG npm run test:interop prints Glewlwyd's log after the suite: its error
 * answers have empty bodies, so the log is where it says why it refused something.
 */

import { createHash } from 'node:crypto'
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import express from 'express'
import { calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importPKCS8, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from 'jose'
import * as oauth from 'oauth4webapi'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from '../e2e/support/chromium.js'
import { appErrorCode, profileClaims } from '../e2e/support/example.js'
import { journeyTest, type Journey } from '../e2e/support/journey.js'
import { startGlewlwyd, type Glewlwyd } from './support/glewlwyd.js'
import { PLUGIN_NAME, RAR_TYPE, setUpOP, USER, type GlewlwydOP } from './support/glewlwyd-op.js'
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

/** The app's answer to `GET /login` without a browser: where it sends the browser, or its error code and the error's message (the page's developer details). */
async function startLogin(app: RP): Promise<{ status: number; location: string | null; code: string | undefined; details: string | undefined }> {
  const response = await fetch(`${app.baseURL}/login`, { redirect: 'manual' })
  const body = await response.text()
  return {
    status: response.status,
    location: response.headers.get('location'),
    code: /id="error-code">([A-Z_]+)</.exec(body)?.[1],
    details: /<details><summary>[^<]*<\/summary><p>([^<]*)<\/p><\/details>/.exec(body)?.[1],
  }
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

/** One call to Glewlwyd's OIDC endpoints, as it went on the wire: the request and Glewlwyd's answer. */
interface OPCall {
  url: string
  headers: Headers
  body: string | undefined
  status: number
  /** The answer's body, as text. */
  answer: string
}

/** The request headers undici put on the wire (`undici:client:sendHeaders`: the request line, then `name: value` lines). */
function wireHeaders(head: string): Headers {
  const headers = new Headers()
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  return headers
}

/**
 * Records the calls to Glewlwyd's OIDC endpoints until stop(), as undici put them on the wire:
 * it reads undici's `node:diagnostics_channel` messages, which both undici underneath Node's
 * fetch (`req.oidc.fetch()`) and the undici express-par sends its OP calls with (PAR, token,
 * JWKS) publish. Nothing is changed on the way and no transport is replaced: the request goes
 * out as it is, the app reads the same answer.
 */
function recordOPCalls(): { to(endpoint: string | undefined): OPCall[]; stop(): void } {
  interface Wire { request: object; headers?: string; chunk?: Uint8Array; response?: { statusCode: number } }
  interface InFlight { url: string; headers: Headers; sent: Buffer[]; status: number; received: Buffer[] }
  const calls: OPCall[] = []
  const inFlight = new WeakMap<object, InFlight>()
  const on: Record<string, (message: Wire) => void> = {
    'undici:request:create': ({ request }) => {
      const { origin, path } = request as { origin: string; path: string }
      const url = new URL(path, origin).href
      if (url.startsWith(`${op.issuer}/`)) inFlight.set(request, { url, headers: new Headers(), sent: [], status: 0, received: [] })
    },
    'undici:client:sendHeaders': ({ request, headers }) => void (inFlight.get(request) && (inFlight.get(request)!.headers = wireHeaders(headers!))),
    'undici:request:bodyChunkSent': ({ request, chunk }) => void inFlight.get(request)?.sent.push(Buffer.from(chunk!)),
    'undici:request:headers': ({ request, response }) => void (inFlight.get(request) && (inFlight.get(request)!.status = response!.statusCode)),
    'undici:request:bodyChunkReceived': ({ request, chunk }) => void inFlight.get(request)?.received.push(Buffer.from(chunk!)),
    'undici:request:trailers': ({ request }) => {
      const call = inFlight.get(request)
      if (!call) return
      inFlight.delete(request)
      const body = call.sent.length ? Buffer.concat(call.sent).toString() : undefined
      calls.push({ url: call.url, headers: call.headers, body, status: call.status, answer: Buffer.concat(call.received).toString() })
    },
  }
  const listeners = Object.entries(on).map(([channel, listener]) => [channel, listener as (message: unknown) => void] as const)
  for (const [channel, listener] of listeners) subscribe(channel, listener)
  return {
    to: (endpoint) => calls.filter((call) => call.url === endpoint),
    stop: () => listeners.forEach(([channel, listener]) => unsubscribe(channel, listener)),
  }
}

/** Records the bodies express-par posts to Glewlwyd's PAR endpoint. */
function recordPushes(): { readonly bodies: URLSearchParams[]; stop(): void } {
  const recorder = recordOPCalls()
  return {
    get bodies() {
      return recorder.to(metadata.pushed_authorization_request_endpoint).map((call) => new URLSearchParams(call.body))
    },
    stop: recorder.stop,
  }
}

/** The DPoP proof a call carried (RFC 9449 §4.2), decoded, and the thumbprint of its key (§6.1). */
async function proofOf(call: OPCall | undefined): Promise<{ header: ProtectedHeaderParameters; payload: JWTPayload; jkt: string }> {
  const proof = call?.headers.get('dpop')
  if (!proof) throw new Error(`No DPoP proof on ${call?.url ?? 'a call that was not made'}.`)
  const header = decodeProtectedHeader(proof)
  return { header, payload: decodeJwt(proof), jkt: await calculateJwkThumbprint(header.jwk!) }
}

/** `ath` (RFC 9449 §4.2): the base64url SHA-256 of the access token. */
const ath = (accessToken: string) => createHash('sha256').update(accessToken).digest('base64url')

/** Collects the messages express-par publishes on `node:diagnostics_channel` `express-par:<name>` until stop(). */
function recordEvents(name: string): { events: Array<Record<string, unknown>>; stop(): void } {
  const events: Array<Record<string, unknown>> = []
  const channel = `express-par:${name}`
  const listener = (message: unknown) => void events.push(message as Record<string, unknown>)
  subscribe(channel, listener)
  return { events, stop: () => void unsubscribe(channel, listener) }
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

test('Glewlwyd advertises PAR (required), PKCE S256, end_session and DPoP; not RFC 9207 iss, not back-channel logout', () => {
  expect(metadata).toMatchObject({
    issuer: op.issuer,
    pushed_authorization_request_endpoint: `${op.issuer}/par`,
    require_pushed_authorization_requests: true,
    code_challenge_methods_supported: ['S256'],
    end_session_endpoint: `${op.issuer}/end_session`,
  })
  expect(metadata.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post', 'private_key_jwt']))
  expect(metadata.request_object_signing_alg_values_supported).toContain('PS256')
  // With the plugin's oauth-dpop-allowed: every algorithm express-par signs proofs with.
  expect(metadata.dpop_signing_alg_values_supported).toEqual(expect.arrayContaining(['ES256', 'EdDSA', 'PS256']))
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
      await clickAndWaitForNavigation(page, '#logout')
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
  expect(await page.locator('details').textContent()).toContain('too much time has elapsed since the last End-User authentication') // the error page's developer details
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

describe('DPoP (RFC 9449; Glewlwyd implements draft 07)', () => {
  /** A confidential client of letters and digits, registered with a secret for client_secret_post. */
  const postClient = { client_secret: SECRET, token_endpoint_auth_method: ['client_secret_post'] }

  journeyTest(
    'a DPoP login: the proof at PAR, the same key at the token endpoint, token_type DPoP with cnf.jkt, and req.oidc.fetch() to the userinfo endpoint with ath',
    () => browser,
    async (journey) => {
      const accessTokens: string[] = []
      const app = await rp({
        clientID: 'rpdpop',
        auth: {
          clientSecret: SECRET,
          clientAuthMethod: 'client_secret_post',
          dpop: true,
          afterCallback: (_req, _res, session) => {
            if (session.accessToken) accessTokens.push(session.accessToken)
            return session
          },
        },
        // RFC 9449 §5.2: dpop_bound_access_tokens, so Glewlwyd refuses this client's requests without a proof.
        client: { ...postClient, dpop_bound_access_tokens: 'true' },
        resourceURL: metadata.userinfo_endpoint,
      })
      const page = await journey.newPage()
      const calls = recordOPCalls()
      let resource: Awaited<ReturnType<Page['request']['get']>>
      try {
        await page.goto(`${app.baseURL}/login`)
        await signInAtGlewlwyd(page, app.baseURL, journey)
        expect(page.url()).toBe(`${app.baseURL}/`)
        // The example app's home page reads req.oidc.accessToken.token_type.
        expect(await page.locator('#token-type').textContent()).toContain('DPoP-bound')
        resource = await page.request.get(`${app.baseURL}/api/resource`)
      } finally {
        calls.stop()
      }

      // PAR (RFC 9449 §10.1): one push with a proof of the login's key; Glewlwyd took it.
      const pushes = calls.to(metadata.pushed_authorization_request_endpoint)
      expect(pushes.map((call) => call.status)).toEqual([201])
      const atPAR = await proofOf(pushes[0])
      expect(atPAR.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
      expect(atPAR.payload).toMatchObject({ htm: 'POST', htu: metadata.pushed_authorization_request_endpoint })

      // Token request (§5): a proof of the same key; Glewlwyd answers token_type DPoP and binds the
      // access token (an RFC 9068 JWT) to that key (§6.1: cnf.jkt).
      const tokenCalls = calls.to(metadata.token_endpoint)
      expect(tokenCalls.map((call) => call.status)).toEqual([200])
      const atToken = await proofOf(tokenCalls[0])
      expect(atToken.jkt).toBe(atPAR.jkt)
      expect(atToken.payload).toMatchObject({ htm: 'POST', htu: metadata.token_endpoint })
      const tokens = JSON.parse(tokenCalls[0]!.answer) as { token_type: string; access_token: string; id_token: string }
      expect(tokens.token_type).toBe('DPoP')
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: atPAR.jkt })
      expect(accessTokens).toEqual([tokens.access_token])

      // A resource call (§7): Authorization: DPoP, a proof of the same key with ath; Glewlwyd's userinfo answers.
      expect(resource.status()).toBe(200)
      expect(await resource.json()).toMatchObject({ sub: decodeJwt(tokens.id_token).sub, name: USER.name })
      const userinfoCalls = calls.to(metadata.userinfo_endpoint)
      expect(userinfoCalls.map((call) => call.status)).toEqual([200])
      expect(userinfoCalls[0]!.headers.get('authorization')).toBe(`DPoP ${tokens.access_token}`)
      const atUserinfo = await proofOf(userinfoCalls[0])
      expect(atUserinfo.jkt).toBe(atPAR.jkt)
      expect(atUserinfo.payload).toMatchObject({ htm: 'GET', htu: metadata.userinfo_endpoint, ath: ath(tokens.access_token) })

      // Without a proof, the same token is refused, as a Bearer token and in the DPoP scheme.
      const without = (scheme: string) => fetch(metadata.userinfo_endpoint!, { headers: { authorization: `${scheme} ${tokens.access_token}` } })
      expect((await without('Bearer')).status).toBe(401)
      expect((await without('DPoP')).status).toBe(401)
    },
  )

  journeyTest(
    'Glewlwyd binds the code to the PAR proof\'s key (RFC 9449 §10.1), refusing another key with 403 (RFC 6749 §5.2: 400); its userinfo takes a proof of any key (§7.1, §4.3 step 12)',
    () => browser,
    async (journey) => {
      // Registered without dpop_bound_access_tokens: what refuses a token request here is the code's binding alone.
      const app = await rp({ clientID: 'rpdpopcode', auth: { clientSecret: SECRET, clientAuthMethod: 'client_secret_post' }, client: postClient })
      const client: oauth.Client = { client_id: app.clientID }
      const clientAuth = oauth.ClientSecretPost(SECRET)
      const options = { [oauth.allowInsecureRequests]: true }
      const [loginKey, otherKey] = await Promise.all([oauth.generateKeyPair('ES256'), oauth.generateKeyPair('ES256')])
      const loginJkt = await calculateJwkThumbprint(await crypto.subtle.exportKey('jwk', loginKey.publicKey))

      // A push with a proof of loginKey, as express-par makes it, and a login through Glewlwyd's pages.
      const verifier = oauth.generateRandomCodeVerifier()
      const redirectURI = `${app.baseURL}/callback`
      const pushed = await oauth.pushedAuthorizationRequest(
        metadata,
        client,
        clientAuth,
        { ...pushParameters(app), code_challenge: await oauth.calculatePKCECodeChallenge(verifier), state: 'dpop-state', nonce: 'dpop-nonce' },
        { ...options, DPoP: oauth.DPoP(client, loginKey) },
      )
      expect(pushed.status).toBe(201)
      const { request_uri: requestURI } = (await pushed.json()) as { request_uri: string }
      const page = await journey.newPage()
      const seen = watchFrontChannel(page, app)
      await page.goto(`${metadata.authorization_endpoint}?${new URLSearchParams({ client_id: app.clientID, request_uri: requestURI })}`)
      await signInAtGlewlwyd(page, app.baseURL, journey)
      // The app did not start this login, so it does not redeem the code: it is ours.
      expect(await appErrorCode(page)).toBe('ERR_LOGIN_NOT_PENDING')
      const callback = oauth.validateAuthResponse(metadata, client, new URL(seen.callback!), 'dpop-state')

      const redeem = (key: CryptoKeyPair | undefined) =>
        oauth.authorizationCodeGrantRequest(metadata, client, clientAuth, callback, redirectURI, verifier, { ...options, ...(key && { DPoP: oauth.DPoP(client, key) }) })
      // Another key, or none: refused, with an OAuth error JSON but a 403.
      for (const key of [otherKey, undefined]) {
        const refused = await redeem(key)
        expect(refused.status).toBe(403)
        expect(await refused.json()).toMatchObject({ error: 'invalid_dpop_proof' })
      }
      // The PAR key: the code is still good, and the tokens are bound to that key.
      const granted = await redeem(loginKey)
      expect(granted.status).toBe(200)
      const tokens = (await granted.json()) as { token_type: string; access_token: string }
      expect(tokens.token_type).toBe('DPoP')
      expect(decodeJwt(tokens.access_token).cnf).toEqual({ jkt: loginJkt })

      // Userinfo with that access token: Glewlwyd checks the proof's form and ath, but does not compare
      // its key with cnf.jkt, so a thief with another key is served too.
      const userinfo = (key: CryptoKeyPair) =>
        oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(metadata.userinfo_endpoint!), undefined, undefined, { ...options, DPoP: oauth.DPoP(client, key) })
      expect((await userinfo(loginKey)).status).toBe(200)
      const stolen = await userinfo(otherKey)
      expect(stolen.status).toBe(200) // RFC 9449 §7.1 requires a refusal
      expect(await stolen.json()).toMatchObject({ name: USER.name })
    },
  )

  test('server nonces: with oauth-dpop-nonce-mandatory, Glewlwyd refuses every push with 403 invalid_dpop_proof and no DPoP-Nonce (RFC 9449 §8: 400 use_dpop_nonce with one), so no DPoP login can start', async () => {
    const issuer = await op.addInstance('oidcnonce', { 'oauth-dpop-nonce-mandatory': true, 'oauth-dpop-nonce-counter': 5 })
    const app = await rp({ clientID: 'rpdpopnonce', auth: { issuerBaseURL: issuer, clientSecret: SECRET, clientAuthMethod: 'client_secret_post', dpop: true }, client: postClient })
    const login = await startLogin(app)
    expect(login).toMatchObject({ status: 502, code: 'ERR_PAR_FAILED' })
    expect(login.details).toContain('HTTP 403 with error=invalid_dpop_proof')

    // The cause: pushes with a proof get no nonce to retry with, however often they ask; without one, the same push is taken.
    const nonceMetadata = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as oauth.AuthorizationServer
    const client: oauth.Client = { client_id: app.clientID }
    const dpop = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
    const push = (withProof: boolean) =>
      oauth.pushedAuthorizationRequest(nonceMetadata, client, oauth.ClientSecretPost(SECRET), pushParameters(app), { [oauth.allowInsecureRequests]: true, ...(withProof && { DPoP: dpop }) })
    for (let attempt = 0; attempt < 2; attempt++) {
      const refused = await push(true)
      expect(refused.status).toBe(403)
      expect(refused.headers.get('dpop-nonce')).toBeNull()
      expect(await refused.json()).toEqual({ error: 'invalid_dpop_proof', error_description: 'Invalid DPoP' })
    }
    expect((await push(false)).status).toBe(201)
  })
})

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
    'Glewlwyd ends its session, sends a logout token, and returns the browser to post_logout_redirect_uri (express-par sends a state)',
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
      await page.click('#logout')
      await confirmEndSession(page, journey)

      // express-par's request: id_token_hint, post_logout_redirect_uri, client_id and a state (optional in
      // RP-Initiated Logout 1.0 §2, but Glewlwyd returns to post_logout_redirect_uri only with one).
      expect(endSessionRequests.map((url) => [...url.searchParams.keys()].sort())).toEqual([['client_id', 'id_token_hint', 'post_logout_redirect_uri', 'state']])
      expect(endSessionRequests[0]!.searchParams.get('post_logout_redirect_uri')).toBe(`${app.baseURL}/`)
      const state = endSessionRequests[0]!.searchParams.get('state')!
      await page.waitForURL(`${app.baseURL}/?state=${state}`)
      expect(await page.locator('body').innerText()).toContain('You are not logged in')
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

})

describe('back-channel logout (backchannelLogout) into express-par\'s own route', () => {
  /** One POST Glewlwyd made to the app's routes.backchannelLogout, and what express-par answered. */
  interface Delivery {
    logoutToken: string
    answer?: { status: number; contentType: unknown; cacheControl: unknown; body: string }
  }

  journeyTest(
    'an admin ends the Glewlwyd session: its logout token has no exp (Back-Channel Logout 1.0 §2.4), so express-par answers 400 with an OAuth error and the app session stays',
    () => browser,
    async (journey) => {
      const deliveries: Delivery[] = []
      const logins: Array<Record<string, unknown>> = []
      const accessTokens: string[] = []
      const app = await rp({
        clientID: 'rpbackchannel',
        auth: {
          clientSecret: SECRET,
          clientAuthMethod: 'client_secret_post',
          backchannelLogout: true,
          afterCallback: (_req, _res, session) => {
            logins.push({ ...session.claims })
            if (session.accessToken) accessTokens.push(session.accessToken)
            return session
          },
        },
        client: (baseURL) => ({
          client_secret: SECRET,
          token_endpoint_auth_method: ['client_secret_post'],
          backchannel_logout_uri: `${baseURL}/backchannel-logout`,
          backchannel_logout_session_required: 'true',
        }),
        // A tap in front of express-par's route: the form parsed (express-par then reads req.body, as
        // behind any app-wide urlencoded parser), and express-par's answer recorded as it is sent.
        routes: (router) =>
          router.post('/backchannel-logout', express.urlencoded({ extended: false }), (req, res, next) => {
            const delivery: Delivery = { logoutToken: String(req.body.logout_token) }
            deliveries.push(delivery)
            const end = res.end.bind(res) as (body?: unknown) => typeof res
            res.end = ((body?: unknown) => {
              delivery.answer = { status: res.statusCode, contentType: res.getHeader('content-type'), cacheControl: res.getHeader('cache-control'), body: body === undefined ? '' : String(body) }
              return end(body)
            }) as typeof res.end
            next()
          }),
      })
      const page = await journey.newPage()
      await page.goto(`${app.baseURL}/login`)
      await signInAtGlewlwyd(page, app.baseURL, journey)
      expect(await apiMeStatus(page, app)).toBe(200)
      const [login] = logins
      const [accessToken] = accessTokens
      expect(typeof login?.sid).toBe('string')
      const userinfo = () => fetch(metadata.userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } })
      expect((await userinfo()).status).toBe(200)

      // The admin ends the user's OIDC session at Glewlwyd (its plugin's session API, as the admin
      // app does it), which posts a logout token to every client of that session.
      const events = recordEvents('backchannel-logout')
      try {
        await op.admin.call('DELETE', `/${PLUGIN_NAME}/session/${encodeURIComponent(String(login!.sid))}?impersonate=${USER.username}`)
        await eventually(() => deliveries[0]?.answer, 5000, 'express-par\'s answer to Glewlwyd\'s logout token')
      } finally {
        events.stop()
      }

      // A real logout token of this session, signed with Glewlwyd's key: typ JWT, and no exp.
      const [delivery] = deliveries
      const { payload, protectedHeader } = await jwtVerify(delivery!.logoutToken, createRemoteJWKSet(new URL(metadata.jwks_uri!)), { issuer: op.issuer, audience: app.clientID })
      expect(protectedHeader.typ).toBe('JWT') // express-par takes a typ only if it is logout+jwt (explicit typing, §4.1), so this too would be refused
      expect(payload).toMatchObject({ sub: login!.sub, sid: login!.sid, events: { [BACKCHANNEL_EVENT]: {} } })
      expect(payload.exp).toBeUndefined() // REQUIRED by §2.4, validated by §2.6

      // express-par refused it, by design, as §2.8 has it: 400, an OAuth error JSON naming the check, no cache.
      expect(delivery!.answer).toMatchObject({ status: 400, contentType: 'application/json', cacheControl: 'no-store' })
      expect(JSON.parse(delivery!.answer!.body)).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('missing or wrong "exp" claim') })
      expect(events.events).toEqual([expect.objectContaining({ outcome: 'failure', code: 'ERR_LOGOUT_TOKEN_INVALID', clientID: app.clientID })])

      // So the app session stays, while Glewlwyd has revoked the session's tokens.
      expect(await apiMeStatus(page, app)).toBe(200)
      await page.goto(`${app.baseURL}/`)
      expect(await page.locator('body').innerText()).toContain(`Logged in as ${USER.name}`)
      expect((await userinfo()).status).toBe(401)
    },
  )
})
