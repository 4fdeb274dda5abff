import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { sessionId } from '../support/session-store.js'
import { startStack } from '../support/stack.js'

describe.each(EXPRESS_VERSIONS)('logout (%s)', (_name, express) => {
  test('ends the local session and redirects to postLogoutRedirect', async () => {
    const stack = await startStack({ express, auth: { routes: { postLogoutRedirect: '/bye' } } })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      const id = sessionId(browser, stack.baseURL)!
      const out = await browser.request(`${stack.baseURL}/logout`)
      expect(out.status).toBe(302)
      expect(out.headers.get('location')).toBe('/bye')
      expect((stack.store as unknown as { sessions: Record<string, string> }).sessions[id]).toBeUndefined()
      expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(false)
    } finally {
      await stack.close()
    }
  })

  test('returnTo is honoured for same-origin paths only', async () => {
    const stack = await startStack({ express })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=/goodbye`)).headers.get('location')).toBe('/goodbye')
      await stack.login(browser)
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=//evil.example`)).headers.get('location')).toBe('/')
      expect((await browser.request(`${stack.baseURL}/logout?returnTo=/.//evil.example`)).headers.get('location')).toBe('/')
    } finally {
      await stack.close()
    }
  })

  test('with idpLogout, continues to the OP end_session_endpoint with id_token_hint', async () => {
    const stack = await startStack({ express, auth: { idpLogout: true } })
    try {
      const browser = stack.browser()
      await stack.login(browser)
      const out = await browser.request(`${stack.baseURL}/logout`)
      const endSession = new URL(out.headers.get('location')!)
      expect(endSession.origin).toBe(stack.issuer)
      expect(endSession.pathname).toBe('/session/end')
      expect(endSession.searchParams.get('id_token_hint')).toMatch(/^ey/)
      expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.baseURL}/`)
      expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(false)
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
      expect((await browser.request(`${stack.baseURL}/logout`)).status).toBe(404)
    } finally {
      await stack.close()
    }
  })
})
