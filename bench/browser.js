// A scripted browser for the benchmark: one cookie jar per origin (so the OP's cookies and each
// app's cookies never mix even though they share 127.0.0.1), manual redirects, and the
// oidc-provider development login and consent forms. Adapted from test/support/browser.ts.

/** Cookie name -> value, per origin. */
export class Browser {
  jar = new Map()

  /** The `cookie` request header this browser sends to `url`'s origin. */
  cookieHeader(url) {
    const cookies = this.jar.get(new URL(url).origin)
    return cookies ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : ''
  }

  /** All cookies of `url`'s origin, as a Map. */
  cookies(url) {
    return this.jar.get(new URL(url).origin) ?? new Map()
  }

  #store(url, response) {
    const origin = new URL(url).origin
    const cookies = this.jar.get(origin) ?? new Map()
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';')
      const at = pair.indexOf('=')
      const name = pair.slice(0, at).trim()
      const value = pair.slice(at + 1).trim()
      const expired = attributes.some((a) => {
        const [k, v] = a.trim().split('=')
        if (k.toLowerCase() === 'max-age') return Number(v) <= 0
        if (k.toLowerCase() === 'expires') return Date.parse(v ?? '') < Date.now()
        return false
      })
      if (expired) cookies.delete(name)
      else cookies.set(name, value)
    }
    this.jar.set(origin, cookies)
  }

  /** One request, no redirect following; `ms` is the time until the whole answer arrived. */
  async request(url, { form, headers: extra, method, json } = {}) {
    const headers = { accept: 'text/html', ...extra }
    const cookie = this.cookieHeader(url)
    if (cookie) headers.cookie = cookie
    let body
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      body = new URLSearchParams(form).toString()
    } else if (json !== undefined) {
      headers['content-type'] = 'application/json'
      body = JSON.stringify(json)
    }
    const started = performance.now()
    const response = await fetch(url, { method: method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' })
    const text = await response.text()
    const ms = performance.now() - started
    this.#store(url, response)
    return { url, status: response.status, headers: response.headers, body: text, ms }
  }

  /** GET `url`, following redirects until `stop(next)` is true or a non-redirect answer arrives. */
  async follow(url, stop, max = 15) {
    let page = await this.request(url)
    for (let i = 0; i < max && page.status >= 300 && page.status < 400; i++) {
      const next = new URL(page.headers.get('location'), page.url).href
      if (stop(next)) return { ...page, url: next, status: 0 }
      page = await this.request(next)
    }
    return page
  }
}

/**
 * Drives the OP from the authorization URL (login and consent forms when asked) until it sends the
 * browser to `callbackPrefix`; returns that callback URL without opening it.
 */
export async function authorizeAtOP(browser, authorizationUrl, callbackPrefix, login = 'alice') {
  const atCallback = (url) => url.startsWith(callbackPrefix)
  let page = await browser.follow(authorizationUrl, atCallback)
  for (let step = 0; step < 4; step++) {
    if (page.status === 0) return page.url
    if (page.status !== 200 || !page.url.includes('/interaction/')) {
      throw new Error(`OP interaction stopped at ${page.url} with HTTP ${page.status}: ${page.body.slice(0, 300)}`)
    }
    const form = page.body.includes('name="login"') ? { prompt: 'login', login, password: 'any-password' } : { prompt: 'consent' }
    const posted = await browser.request(page.url, { form })
    const next = new URL(posted.headers.get('location') ?? '', page.url).href
    if (atCallback(next)) return next
    page = await browser.follow(next, atCallback)
  }
  throw new Error('OP interaction did not reach the callback')
}
