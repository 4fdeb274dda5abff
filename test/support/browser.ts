import http from 'node:http'
import https from 'node:https'

/**
 * A scripted browser for integration tests: a cookie jar per host (cookies ignore ports, as in real
 * browsers), manual redirects, and the oidc-provider development login and consent forms.
 */

/** What a browser sends for a request from one of the app's own pages (Fetch Metadata). */
export const SAME_ORIGIN = Object.freeze({ 'sec-fetch-site': 'same-origin' }) as Record<string, string>

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

  private store(url: URL, headers: Headers): void {
    const cookies = this.jar.get(url.hostname) ?? new Map<string, string>()
    for (const line of headers.getSetCookie()) {
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

  /**
   * One request, no redirect following. Sent with node:http rather than fetch, which would force
   * `Sec-Fetch-Mode: cors`: this plays a browser, so top-level GETs say `navigate`.
   */
  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Page> {
    const target = new URL(url)
    const method = init.method ?? (init.form ? 'POST' : 'GET')
    const headers: Record<string, string> = { accept: 'text/html', 'sec-fetch-mode': 'navigate', ...init.headers }
    for (const name of Object.keys(headers)) if (headers[name] === '') delete headers[name] // '' removes a default header
    const cookie = this.cookieHeader(target)
    if (cookie) headers.cookie = cookie
    let body: string | undefined
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(init.form).toString()
    }
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      // https trusts the test CA through NODE_EXTRA_CA_CERTS (test/fapi/run.js), like the app.
      const req = (target.protocol === 'https:' ? https : http).request(target, { method, headers, agent: false }, resolve)
      req.on('error', reject)
      req.end(body)
    })
    const chunks: Buffer[] = []
    for await (const chunk of response) chunks.push(chunk as Buffer)
    const responseHeaders = new Headers()
    for (const [name, value] of Object.entries(response.headers)) {
      for (const v of Array.isArray(value) ? value : [value ?? '']) responseHeaders.append(name, v)
    }
    this.store(target, responseHeaders)
    return { url, status: response.statusCode!, headers: responseHeaders, body: Buffer.concat(chunks).toString('utf8') }
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
export async function authorizeAtOP(
  browser: TestBrowser,
  authorizationUrl: string,
  callbackPrefix: string,
  { login = 'alice', abort = false }: { login?: string; abort?: boolean } = {},
): Promise<string> {
  const atCallback = (url: string) => url.startsWith(callbackPrefix)
  let page = await browser.follow(authorizationUrl, atCallback)
  for (let step = 0; step < 4; step++) {
    if (page.status === 0) return page.url
    if (page.status !== 200 || !page.url.includes('/interaction/')) {
      throw new Error(`OP interaction stopped at ${page.url} with HTTP ${page.status}: ${page.body.slice(0, 300)}`)
    }
    if (abort) {
      // The user cancels: the OP answers the client with error=access_denied.
      page = await browser.follow(`${page.url}/abort`, atCallback)
      continue
    }
    const form: Record<string, string> = page.body.includes('name="login"') ? { prompt: 'login', login, password: 'any-password' } : { prompt: 'consent' }
    const posted = await browser.request(page.url, { form })
    const next = new URL(posted.headers.get('location') ?? '', page.url).href
    if (atCallback(next)) return next
    page = await browser.follow(next, atCallback)
  }
  throw new Error('OP interaction did not reach the callback')
}

/**
 * Ends the browser's session at the OP the way a person does on oidc-provider's logout page: opens
 * `endSessionUrl` (its end_session_endpoint, with any parameters), then confirms "Yes, sign me
 * out". The OP then calls the back-channel logout URIs of the session's clients before it answers.
 * Returns the OP's final answer (a redirect to the post-logout page).
 */
export async function endSessionAtOP(browser: TestBrowser, endSessionUrl: string): Promise<Page> {
  const issuer = new URL(endSessionUrl).origin
  const page = await browser.request(endSessionUrl)
  const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1]
  const action = /<form id="op.logoutForm" method="post" action="([^"]+)"/.exec(page.body)?.[1]
  if (page.status !== 200 || !xsrf || !action) throw new Error(`The OP showed no logout confirmation (HTTP ${page.status}): ${page.body.slice(0, 300)}`)
  return browser.request(new URL(action, issuer).href, { form: { xsrf, logout: 'yes' } })
}
