import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { SAME_ORIGIN, type TestBrowser } from '../support/browser.js'
import { sessionId, storedAuth } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

const sessions = (stack: Stack) => (stack.store as unknown as { sessions: Record<string, string> }).sessions
const authenticated = async (stack: Stack, browser: TestBrowser) => JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated as boolean

describe.each(EXPRESS_VERSIONS)('logout (%s)', (_name, express) => {
  test('ends the local session and redirects to postLogoutRedirect', async () => {
    const stack = await startStack({ express, auth: { routes: { postLogoutRedirect: '/bye' } } })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      const id = sessionId(browser, stack.baseURL)!
      const out = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
      expect(out.status).toBe(302)
      expect(out.headers.get('location')).toBe('/bye')
      expect(sessions(stack)[id]).toBeUndefined()
      expect(await authenticated(stack, browser)).toBe(false)
    } finally {
      await stack.close()
    }
  })

  test('returnTo is honoured for same-origin paths only', async () => {
    const stack = await startStack({ express })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=/goodbye`, { headers: SAME_ORIGIN })).headers.get('location')).toBe('/goodbye')
      await stack.login(browser)
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=//evil.example`, { headers: SAME_ORIGIN })).headers.get('location')).toBe('/')
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=/.//evil.example`, { headers: SAME_ORIGIN })).headers.get('location')).toBe('/')
    } finally {
      await stack.close()
    }
  })

  test('with idpLogout, continues to the OP end_session_endpoint with id_token_hint', async () => {
    const stack = await startStack({ express, auth: { idpLogout: true } })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      const out = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
      const endSession = new URL(out.headers.get('location')!)
      expect(endSession.origin).toBe(stack.issuer)
      expect(endSession.pathname).toBe('/session/end')
      expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/)
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.baseURL}/`)
      expect(endSession.searchParams.get('state')).toMatch(/^[\w-]{43}$/) // fresh per logout: some OPs return only with one
      expect(await authenticated(stack, browser)).toBe(false)
      // The OP accepts it: it shows its logout confirmation rather than an error.
      const atOP = await browser.request(endSession.href)
      expect(atOP.status).toBe(200)
      expect(atOP.body).toMatch(/logout/i)
    } finally {
      await stack.close()
    }
  })

  test('disabled routes are not served', async () => {
    const stack = await startStack({ express, auth: { routes: { login: false, logout: false } } })
    try {
      const browser = stack.browser()
      expect((await browser.request(`${stack.baseURL}/login`)).status).toBe(404)
      expect((await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })).status).toBe(404)
      expect((await browser.request(`${stack.baseURL}/logout`, { method: 'POST', headers: SAME_ORIGIN })).status).toBe(404)
    } finally {
      await stack.close()
    }
  })
})

describe('logout only from the app\'s own origin', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({
      routes: (app) => {
        // The app's own handler decides for itself: res.oidc.logout() has no origin check.
        app.get('/app-logout', (_req, res, next) => void res.oidc.logout({ returnTo: '/after' }, next))
      },
    })
  })
  afterAll(() => stack.close())

  async function loggedIn(): Promise<{ browser: TestBrowser; id: string }> {
    const browser = stack.browser()
    expect((await stack.login(browser)).status).toBe(302)
    return { browser, id: sessionId(browser, stack.baseURL)! }
  }

  const origin = () => new URL(stack.baseURL).origin

  test.each<[string, { method?: string; headers: () => Record<string, string> }]>([
    ['GET, Sec-Fetch-Site: same-origin (a link on the app\'s page)', { headers: () => ({ 'sec-fetch-site': 'same-origin' }) }],
    ['GET, Sec-Fetch-Site: none (typed or bookmarked)', { headers: () => ({ 'sec-fetch-site': 'none' }) }],
    ['POST, Sec-Fetch-Site: same-origin (a form on the app\'s page)', { method: 'POST', headers: () => ({ 'sec-fetch-site': 'same-origin', origin: origin() }) }],
    ['POST without Fetch Metadata, Origin of the app (an older browser\'s form)', { method: 'POST', headers: () => ({ origin: origin() }) }],
  ])('%s: logs out, and the Set-Cookie clears the session cookie', async (_name, request) => {
    const { browser, id } = await loggedIn()
    const out = await browser.request(`${stack.baseURL}/logout`, { method: request.method ?? 'GET', headers: request.headers() })
    expect(out.status).toBe(302)
    expect(sessions(stack)[id]).toBeUndefined()
    const cleared = out.headers.getSetCookie().find((line) => line.startsWith('connect.sid='))
    expect(cleared).toMatch(/^connect\.sid=;.*Path=\/.*Expires=Thu, 01 Jan 1970/)
    expect(browser.cookie(stack.baseURL, 'connect.sid')).toBeUndefined()
  })

  test.each<[string, { method?: string; headers: () => Record<string, string> }]>([
    ['GET, Sec-Fetch-Site: cross-site (a link or <img> on another site)', { headers: () => ({ 'sec-fetch-site': 'cross-site' }) }],
    ['GET, Sec-Fetch-Site: same-site (a sibling subdomain is another origin)', { headers: () => ({ 'sec-fetch-site': 'same-site' }) }],
    ['GET without Fetch Metadata (a browser that cannot say: POST only)', { headers: () => ({}) }],
    ['GET without Fetch Metadata but with the app\'s Origin (GETs are not judged by Origin)', { headers: () => ({ origin: origin() }) }],
    ['POST, Sec-Fetch-Site: cross-site, with the cookie (SameSite=None)', { method: 'POST', headers: () => ({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }) }],
    ['POST, Sec-Fetch-Site: cross-site, even claiming the app\'s Origin', { method: 'POST', headers: () => ({ 'sec-fetch-site': 'cross-site', origin: origin() }) }],
    ['POST without Fetch Metadata, another Origin', { method: 'POST', headers: () => ({ origin: 'https://evil.example' }) }],
    ['POST without Fetch Metadata, Origin null (a sandboxed frame)', { method: 'POST', headers: () => ({ origin: 'null' }) }],
    ['POST without Fetch Metadata or Origin', { method: 'POST', headers: () => ({}) }],
  ])('%s: 403 ERR_LOGOUT_CROSS_SITE, the session and its cookie stay', async (_name, request) => {
    const { browser, id } = await loggedIn()
    const before = sessions(stack)[id]
    const out = await browser.request(`${stack.baseURL}/logout`, { method: request.method ?? 'GET', headers: request.headers() })
    expect({ status: out.status, code: JSON.parse(out.body).code }).toEqual({ status: 403, code: 'ERR_LOGOUT_CROSS_SITE' })
    expect(out.headers.get('location')).toBeNull()
    expect(out.headers.getSetCookie()).toEqual([])
    expect(sessions(stack)[id]).toBe(before)
    expect(await authenticated(stack, browser)).toBe(true)
  })

  test('the 403 message says what to do and repeats no header value it does not know', async () => {
    const { browser } = await loggedIn()
    const out = await browser.request(`${stack.baseURL}/logout`, { headers: { 'sec-fetch-site': '<script>x</script>' } })
    const { message } = JSON.parse(out.body) as { message: string }
    expect(message).toContain('Sec-Fetch-Site: unrecognised')
    expect(message).not.toContain('<script>')
    expect(message).toMatch(/form or link on the app's own pages/)
  })

  test('res.oidc.logout() in the app\'s own handler is unchanged: it logs out whatever the request says', async () => {
    const { browser, id } = await loggedIn()
    const out = await browser.request(`${stack.baseURL}/app-logout`, { headers: { 'sec-fetch-site': 'cross-site' } })
    expect(out.status).toBe(302)
    expect(out.headers.get('location')).toBe('/after')
    expect(sessions(stack)[id]).toBeUndefined()
  })
})

test('the session cookie is found and cleared under a non-default name, path and attributes', async () => {
  const stack = await startStack({ session: { name: 'bank.session', cookie: { path: '/', httpOnly: true, sameSite: 'strict' } } })
  try {
    const browser = stack.browser()
    expect((await stack.login(browser)).status).toBe(302)
    expect(browser.cookie(stack.baseURL, 'bank.session')).toBeDefined()
    // Another cookie of the app that is not the session's stays untouched.
    browser.jar.get(new URL(stack.baseURL).hostname)!.set('theme', 'dark')
    const out = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
    expect(out.status).toBe(302)
    const setCookies = out.headers.getSetCookie()
    expect(setCookies).toHaveLength(1)
    expect(setCookies[0]).toMatch(/^bank\.session=; Path=\/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Strict$/)
    expect(browser.cookie(stack.baseURL, 'bank.session')).toBeUndefined()
    expect(browser.cookie(stack.baseURL, 'theme')).toBe('dark')
  } finally {
    await stack.close()
  }
})

test('a /login of the same session in flight when the user logs out does not bring the login back when it saves', async () => {
  let hold = false
  let release: () => void = () => {}
  let parHeld: () => void = () => {}
  const held = new Promise<void>((resolve) => (parHeld = resolve))
  const stack = await startStack({
    opMiddleware: [
      async (ctx, next) => {
        if (hold && ctx.path === '/request') {
          hold = false
          const released = new Promise<void>((resolve) => (release = resolve))
          parHeld()
          await released
        }
        await next()
      },
    ],
  })
  try {
    const browser = stack.browser()
    expect((await stack.login(browser)).status).toBe(302)
    const id = sessionId(browser, stack.baseURL)!
    const cookie = browser.cookieHeader(new URL(stack.baseURL))

    // Another tab starts a login: it loads the session (logged in) and waits for the OP's PAR answer.
    hold = true
    const inFlight = browser.request(`${stack.baseURL}/login`)
    await held
    const out = await browser.request(`${stack.baseURL}/logout`, { headers: SAME_ORIGIN })
    expect(out.status).toBe(302)
    expect(sessions(stack)[id]).toBeUndefined()

    release()
    const login = await inFlight
    expect(login.status).toBe(302) // to the OP: the new login goes ahead, anonymously
    const stored = sessions(stack)[id]
    expect(stored).toBeDefined() // it did save (its pending login)...
    expect(storedAuth(JSON.parse(stored!))).toBeUndefined() // ...without the login it had loaded
    // The old cookie, sent again, finds no login.
    const replayed = await stack.browser().request(`${stack.baseURL}/`, { headers: { cookie } })
    expect(JSON.parse(replayed.body).authenticated).toBe(false)
  } finally {
    release()
    await stack.close()
  }
})
