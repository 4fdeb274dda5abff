/**
 * attemptSilentLogin(): one `prompt=none` login through PAR per session, for anonymous top-level
 * navigations only. Against the real OP with and without its session; against the hostile OP for
 * every "not without the user" answer, a refusal that is an error, and an OP that is down.
 */

import type express from 'express'
import { attemptSilentLogin } from 'express-par'
import { TestBrowser, authorizeAtOP, type Page } from '../support/browser.js'
import { useHostileStack } from '../support/hostile-stack.js'
import { storedSession } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

/** What a browser sends for a page load the user asked for. */
const NAVIGATION = { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none' }

function withSilentLogin(app: express.Express): void {
  app.use(attemptSilentLogin())
  app.get('/page', (req, res) => res.json({ page: req.originalUrl, authenticated: req.oidc.isAuthenticated(), sub: req.oidc.user?.sub ?? null }))
}

const pushedPrompts = (stack: Stack) =>
  stack.opEvents.filter(({ name }) => name === 'pushed_authorization_request.success').map(({ args }) => (args[0] as { oidc: { params: { prompt?: string } } }).oidc.params.prompt)

describe('against the real OP', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ routes: withSilentLogin })
  })
  afterAll(() => stack.close())

  /** Follows a navigation through the OP and back until the app answers with a page. */
  async function navigate(browser: TestBrowser, path: string): Promise<{ page: Page; hops: string[] }> {
    const hops: string[] = []
    let page = await browser.request(`${stack.baseURL}${path}`, { headers: NAVIGATION })
    for (let i = 0; i < 10 && page.status >= 300 && page.status < 400; i++) {
      const next = new URL(page.headers.get('location')!, page.url)
      hops.push(`${next.origin === stack.issuer ? 'op' : 'app'} ${next.pathname}`)
      page = await browser.request(next.href, { headers: NAVIGATION })
    }
    return { page, hops }
  }

  test('without an OP session: one prompt=none try, back on the page anonymous, no error, and no second try', async () => {
    const browser = stack.browser()
    const pushed = pushedPrompts(stack).length
    const { page, hops } = await navigate(browser, '/page?x=1')
    expect(hops).toEqual(['op /auth', 'app /callback', 'app /page'])
    expect(pushedPrompts(stack).slice(pushed)).toEqual(['none'])
    expect(page.status).toBe(200)
    expect(JSON.parse(page.body)).toEqual({ page: '/page?x=1', authenticated: false, sub: null })
    expect(stack.errors.filter((err) => err.code === 'ERR_LOGIN_REFUSED')).toEqual([])

    // No loop: later navigations of the session go straight through.
    for (const path of ['/page?x=1', '/page?x=2']) expect((await navigate(browser, path)).hops).toEqual([])
    expect(pushedPrompts(stack).length).toBe(pushed + 1)
    // The marker is in the session, not in a cookie of its own.
    expect(storedSession(stack.store, browser, stack.baseURL)?.expressPar?.default).toEqual({ silentTried: 1 })
    expect([...(browser.jar.get(new URL(stack.baseURL).hostname)?.keys() ?? [])].filter((name) => !name.startsWith('_'))).toEqual(['connect.sid'])
  })

  test('with an OP session: a new app session is logged in silently, on the page it asked for', async () => {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    expect((await browser.request(await authorizeAtOP(browser, start.headers.get('location')!, stack.callbackPrefix))).status).toBe(302)
    // A new app session (the app's cookie gone, the OP's kept: both live on 127.0.0.1).
    browser.jar.get(new URL(stack.baseURL).hostname)!.delete('connect.sid')
    const pushed = pushedPrompts(stack).length
    const { page, hops } = await navigate(browser, '/page')
    expect(hops).toEqual(['op /auth', 'app /callback', 'app /page'])
    expect(pushedPrompts(stack).slice(pushed)).toEqual(['none'])
    expect(JSON.parse(page.body)).toEqual({ page: '/page', authenticated: true, sub: 'alice' })
    expect((await navigate(browser, '/page')).hops).toEqual([])
  })

  test.each<[string, { method?: string; headers: Record<string, string> }]>([
    ['fetch / XHR', { headers: { 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: 'application/json' } }],
    ['an iframe', { headers: { 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'iframe' } }],
    ['a prefetch (Sec-Purpose)', { headers: { ...NAVIGATION, 'sec-purpose': 'prefetch' } }],
    ['a prerender (Sec-Purpose)', { headers: { ...NAVIGATION, 'sec-purpose': 'prefetch;prerender' } }],
    ['a prefetch (Purpose)', { headers: { ...NAVIGATION, purpose: 'prefetch' } }],
    ['a browser without Fetch Metadata', { headers: { 'sec-fetch-mode': '', accept: 'text/html' } }],
    ['a POST navigation', { method: 'POST', headers: NAVIGATION }],
  ])('never for %s: the request goes through, nothing is pushed', async (_name, request) => {
    const browser = new TestBrowser()
    const pushed = pushedPrompts(stack).length
    const page = await browser.request(`${stack.baseURL}/page`, { method: request.method ?? 'GET', headers: request.headers })
    expect(page.status).toBe(request.method === 'POST' ? 404 : 200)
    expect(pushedPrompts(stack).length).toBe(pushed)
    // A later real navigation of the same browser is still tried: nothing was marked.
    if (request.method !== 'POST') expect((await browser.request(`${stack.baseURL}/page`, { headers: NAVIGATION })).status).toBe(302)
  })

  test('never for a logged-in user', async () => {
    const browser = stack.browser()
    expect((await stack.login(browser)).status).toBe(302)
    const pushed = pushedPrompts(stack).length
    const page = await browser.request(`${stack.baseURL}/page`, { headers: NAVIGATION })
    expect(JSON.parse(page.body)).toMatchObject({ authenticated: true })
    expect(pushedPrompts(stack).length).toBe(pushed)
  })
})

describe('against the hostile OP', () => {
  const stack = useHostileStack({ routes: withSilentLogin })

  const start = (browser: TestBrowser) => browser.request(`${stack.baseURL}/page?from=silent`, { headers: NAVIGATION })

  test.each(['login_required', 'interaction_required', 'consent_required', 'account_selection_required'])(
    'error=%s: back to the page it asked for, anonymous, no error',
    async (error) => {
      stack.op.bend.authorize = (valid) => new URLSearchParams({ error, state: valid.get('state')!, iss: stack.op.issuer })
      const browser = stack.browser()
      const toOP = await start(browser)
      expect(toOP.status).toBe(302)
      expect(stack.op.logins.at(-1)!.params.get('prompt')).toBe('none')
      const callback = await browser.request((await browser.request(toOP.headers.get('location')!)).headers.get('location')!)
      expect({ status: callback.status, location: callback.headers.get('location') }).toEqual({ status: 302, location: '/page?from=silent' })
      expect(stack.op.count('/token')).toBe(0)
      const page = await start(browser)
      expect(JSON.parse(page.body)).toMatchObject({ authenticated: false })
      expect(stack.errors).toEqual([])
    },
  )

  test('any other refusal (access_denied) is the error it always is: ERR_LOGIN_REFUSED', async () => {
    stack.op.bend.authorize = (valid) => new URLSearchParams({ error: 'access_denied', state: valid.get('state')!, iss: stack.op.issuer })
    const browser = stack.browser()
    const toOP = await start(browser)
    const callback = await browser.request((await browser.request(toOP.headers.get('location')!)).headers.get('location')!)
    expect({ status: callback.status, code: JSON.parse(callback.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_REFUSED' })
  })

  test('login_required on a login that was not silent (an explicit /login) stays an error', async () => {
    stack.op.bend.authorize = (valid) => new URLSearchParams({ error: 'login_required', state: valid.get('state')!, iss: stack.op.issuer })
    const browser = stack.browser()
    const page = await stack.login(browser)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 400, code: 'ERR_LOGIN_REFUSED' })
  })

  test('a silent login the OP completes logs the user in, on the page it asked for', async () => {
    const browser = stack.browser()
    const toOP = await start(browser)
    const callback = await browser.request((await browser.request(toOP.headers.get('location')!)).headers.get('location')!)
    expect(callback.headers.get('location')).toBe('/page?from=silent')
    expect(JSON.parse((await start(browser)).body)).toMatchObject({ authenticated: true, sub: 'alice' })
  })

  test('an OP that is down: the page is served anonymously, and the session is not tried again', async () => {
    stack.op.bend.par = () => ({ status: 503, body: { error: 'temporarily_unavailable' } })
    const browser = stack.browser()
    const page = await start(browser)
    expect({ status: page.status, body: JSON.parse(page.body) }).toEqual({ status: 200, body: { page: '/page?from=silent', authenticated: false, sub: null } })
    expect((await start(browser)).status).toBe(200)
    expect(stack.op.count('/par')).toBe(1)
  })
})

test('attemptSilentLogin() without auth() before it is a configuration error', async () => {
  const { default: express } = await import('express')
  const { default: session } = await import('express-session')
  const app = express()
  app.use(session({ secret: 's', resave: false, saveUninitialized: false }))
  app.use(attemptSilentLogin())
  let code: string | undefined
  app.use((err: { code?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    code = err.code
    res.status(500).end()
  })
  const http = await import('node:http')
  const server = http.createServer(app).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  try {
    const { port } = server.address() as import('node:net').AddressInfo
    await new TestBrowser().request(`http://127.0.0.1:${port}/`, { headers: NAVIGATION })
    expect(code).toBe('ERR_CONFIG_INVALID')
  } finally {
    server.close()
  }
})
