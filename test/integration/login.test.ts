import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { editStoredSession, sessionId, storedAuth, storedPending, storedSession } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'
import { authorizeAtOP } from '../support/browser.js'
import { decodeJwt } from 'jose'

describe.each(EXPRESS_VERSIONS)('login (%s)', (_name, express) => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ express })
  })
  afterAll(() => stack.close())
  beforeEach(() => {
    stack.opEvents.length = 0
    stack.opRequests.length = 0
    stack.errors.length = 0
  })

  test('a full login pushes the request, sends the browser with client_id and request_uri only, and stores the user', async () => {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    expect(start.status).toBe(302)
    const authorizationUrl = new URL(start.headers.get('location')!)
    expect(authorizationUrl.origin + authorizationUrl.pathname).toBe(`${stack.issuer}/auth`)
    expect([...authorizationUrl.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    expect(authorizationUrl.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/)

    // What the OP received at its PAR endpoint, authenticated as the client.
    const pushed = stack.opEvents.filter((e) => e.name === 'pushed_authorization_request.success')
    expect(pushed).toHaveLength(1)
    const ctx = pushed[0]!.args[0] as { oidc: { params: Record<string, string>; client: { clientId: string } } }
    expect(ctx.oidc.client.clientId).toBe('test-client')
    expect(ctx.oidc.params).toMatchObject({
      response_type: 'code',
      redirect_uri: `${stack.baseURL}/callback`,
      scope: 'openid profile email',
      code_challenge_method: 'S256',
    })
    expect(ctx.oidc.params.code_challenge).toMatch(/^[\w-]{43}$/)
    expect(ctx.oidc.params.state).toMatch(/^[\w-]{43}$/)
    expect(ctx.oidc.params.nonce).toMatch(/^[\w-]{43}$/)

    const callbackUrl = await authorizeAtOP(browser, authorizationUrl.href, stack.callbackPrefix)
    const done = await browser.request(callbackUrl)
    expect(done.status).toBe(302)
    expect(done.headers.get('location')).toBe('/')

    const me = JSON.parse((await browser.request(`${stack.baseURL}/`)).body)
    expect(me).toEqual({ authenticated: true, user: expect.objectContaining({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com' }) })
    expect(me.user).not.toHaveProperty('nonce')
    expect(me.user).not.toHaveProperty('aud')

    const stored = storedSession(stack.store, browser, stack.baseURL)!
    expect(storedPending(stored)).toBeUndefined()
    const auth = storedAuth(stored)!
    expect(auth).toMatchObject({ idToken: expect.any(String), accessToken: expect.any(String), claims: { sub: 'alice', email: 'alice@example.com' } })
    expect(decodeJwt(auth.idToken)).toMatchObject({ iss: stack.issuer, sub: 'alice' })
    // the protocol claims live in the stored ID token only (lib/session/stored-claims.ts)
    for (const name of ['iss', 'aud', 'exp', 'nonce']) expect(auth.claims).not.toHaveProperty(name)
    expect(stack.errors).toEqual([])
  })

  test('the pending login lives server-side only: nothing secret in the URL or the cookie', async () => {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    const pending = storedPending(storedSession(stack.store, browser, stack.baseURL))!
    const [state, login] = Object.entries(pending)[0]!
    const exposed = start.headers.get('location')! + (browser.cookie(stack.baseURL, 'connect.sid') ?? '')
    for (const secret of [state, login!.v, login!.n]) expect(exposed).not.toContain(secret)
    expect(JSON.stringify(pending).length).toBeLessThan(512)
  })

  test('the session id is rotated at login', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    const before = sessionId(browser, stack.baseURL)
    expect(before).toBeDefined()
    await browser.request(callbackUrl)
    const after = sessionId(browser, stack.baseURL)
    expect(after).toBeDefined()
    expect(after).not.toBe(before)
    // The pre-login session is gone from the store: a fixated id is worthless.
    expect((stack.store as unknown as { sessions: Record<string, string> }).sessions[before!]).toBeUndefined()
  })

  test('only other pending logins are carried into the logged-in session: other pre-login data is dropped', async () => {
    const browser = stack.browser()
    const other = await stack.authorize(browser, '/login?returnTo=/other')
    const callbackUrl = await stack.authorize(browser)
    editStoredSession(stack.store, browser, stack.baseURL, (session) => {
      ;(session as unknown as Record<string, unknown>).plantedBeforeLogin = 'attacker'
    })
    expect((await browser.request(callbackUrl)).status).toBe(302)
    const stored = storedSession(stack.store, browser, stack.baseURL)!
    expect(storedAuth(stored)).toBeDefined()
    expect((stored as unknown as Record<string, unknown>).plantedBeforeLogin).toBeUndefined()
    expect(Object.keys(storedPending(stored)!)).toEqual([new URL(other).searchParams.get('state')])
  })

  test('two tabs: logins pending at once complete out of order', async () => {
    const browser = stack.browser()
    const first = await stack.authorize(browser, '/login?returnTo=/first')
    const second = await stack.authorize(browser, '/login?returnTo=/second')
    const secondDone = await browser.request(second)
    expect(secondDone.headers.get('location')).toBe('/second')
    const firstDone = await browser.request(first)
    expect(firstDone.status).toBe(302)
    expect(firstDone.headers.get('location')).toBe('/first')
    expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(true)
  })

  test('returnTo is kept through the login', async () => {
    const browser = stack.browser()
    const done = await stack.login(browser, `/login?returnTo=${encodeURIComponent('/orders?id=7#top')}`)
    expect(done.headers.get('location')).toBe('/orders?id=7#top')
  })

  test.each([
    ['an absolute URL', 'https://evil.example/steal'],
    ['a protocol-relative URL', '//evil.example'],
    ['a backslash host', '/\\evil.example'],
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['a dot segment that resolves to //host', '/.//evil.example'],
  ])('returnTo with %s falls back to /', async (_name, returnTo) => {
    const browser = stack.browser()
    const done = await stack.login(browser, `/login?returnTo=${encodeURIComponent(returnTo)}`)
    expect(done.status).toBe(302)
    expect(done.headers.get('location')).toBe('/')
  })

  test('requiresAuth sends a browser navigation to login and back to the original URL', async () => {
    const browser = stack.browser()
    const first = await browser.request(`${stack.baseURL}/protected?tab=orders`)
    expect(first.status).toBe(302)
    expect(new URL(first.headers.get('location')!).pathname).toBe('/auth')
    const callbackUrl = await authorizeAtOP(browser, first.headers.get('location')!, stack.callbackPrefix)
    const done = await browser.request(callbackUrl)
    expect(done.headers.get('location')).toBe('/protected?tab=orders')
    const protectedPage = await browser.request(`${stack.baseURL}/protected?tab=orders`)
    expect(protectedPage.status).toBe(200)
    expect(JSON.parse(protectedPage.body)).toMatchObject({ user: { sub: 'alice' }, accessToken: expect.any(String) })
  })

  test('requiresAuth gives an API request a 401 error and starts no login', async () => {
    const browser = stack.browser()
    const answer = await browser.request(`${stack.baseURL}/protected`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } })
    expect(answer.status).toBe(401)
    expect(JSON.parse(answer.body).code).toBe('ERR_UNAUTHENTICATED')
    expect(stack.opRequests).not.toContain('/request')
    // Without Fetch Metadata, an Accept that does not ask for HTML is not a navigation either.
    const curl = await browser.request(`${stack.baseURL}/protected`, { headers: { accept: '*/*', 'sec-fetch-mode': '' } })
    expect(curl.status).toBe(401)
  })
})
