/**
 * A scripted browser for integration tests: a cookie jar per host (cookies ignore ports, as in real
 * browsers), manual redirects, and the oidc-provider development login and consent forms.
 */

export interface Page {
  url: string
  status: number
  headers: Headers
  body: string
}

export class TestBrowser {
  readonly jar = new Map<string, Map<string, string>>()

  cookieHeader(url: URL): string {
    const cookies = this.jar.get(url.hostname)
    return cookies ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : ''
  }

  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).hostname)?.get(name)
  }

  private store(url: URL, response: Response): void {
    const cookies = this.jar.get(url.hostname) ?? new Map<string, string>()
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const at = pair!.indexOf('=')
      const name = pair!.slice(0, at).trim()
      const value = pair!.slice(at + 1).trim()
      const expired = attributes.some((a) => {
        const [k, v] = a.trim().split('=')
        if (k?.toLowerCase() === 'max-age') return Number(v) <= 0
        if (k?.toLowerCase() === 'expires') return Date.parse(v ?? '') < Date.now()
        return false
      })
      if (expired) cookies.delete(name)
      else cookies.set(name, value)
    }
    this.jar.set(url.hostname, cookies)
  }

  /** One request, no redirect following. */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url)
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers }
    const cookie = this.cookieHeader(target)
    if (cookie) headers.cookie = cookie
    let body: string | undefined
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    const response = await fetch(target, { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' })
    this.store(target, response)
    return { url, status: response.status, headers: response.headers, body: await response.text() }
  }

  /** GET `url` and follow redirects until `stop(url)` says so or a non-redirect answer arrives. */
  async follow(url: string, stop: (url: string) => boolean = () => false, max = 15): Promise<Page> {
    let page = await this.request(url)
    for (let i = 0; i < max && page.status >= 300 && page.status < 400; i++) {
      const next = new URL(page.headers.get('location')!, page.url).href
      if (stop(next)) return { ...page, url: next, status: 0 }
      page = await this.request(next)
    }
    return page
  }
}

/**
 * Drives the OP's login and consent forms from the authorization URL until the OP sends the
 * browser to `callbackPrefix`; returns that callback URL without opening it.
 */
export async function authorizeAtOP(browser: TestBrowser, authorizationUrl: string, callbackPrefix: string, login = 'alice'): Promise<string> {
  const atCallback = (url: string) => url.startsWith(callbackPrefix)
  let page = await browser.follow(authorizationUrl, atCallback)
  for (let step = 0; step < 4; step++) {
    if (page.status === 0) return page.url
    if (page.status !== 200 || !page.url.includes('/interaction/')) {
      throw new Error(`OP interaction stopped at ${page.url} with HTTP ${page.status}: ${page.body.slice(0, 300)}`)
    }
    const form: Record<string, string> = page.body.includes('name="login"') ? { prompt: 'login', login, password: 'any-password' } : { prompt: 'consent' }
    const posted = await browser.request(page.url, { form })
    const next = new URL(posted.headers.get('location') ?? '', page.url).href
    if (atCallback(next)) return next
    page = await browser.follow(next, atCallback)
  }
  throw new Error('OP interaction did not reach the callback')
}
