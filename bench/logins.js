// One scripted login against an app: time its /login answer (PAR round trip included) and its
// /callback answer (code exchange, validation, session storage), and size what it keeps for the
// user before, during and after the login.
import { authorizeAtOP } from './browser.js'
import { sessionIdOf } from './apps.js'

/** What the app keeps for this browser: its cookies as sent, and the server-side record if any. */
async function sessionSize(app, browser) {
  const cookieHeader = browser.cookieHeader(app.baseURL)
  const sid = sessionIdOf(browser.cookies(app.baseURL).get('connect.sid'))
  const stored = sid ? await app.storedSession(sid) : { bytes: 0, record: null }
  return { cookieBytes: Buffer.byteLength(cookieHeader), storedBytes: stored.bytes ?? 0, record: stored.record }
}

/**
 * Logs `browser` in to `app` with a fresh app session (the browser keeps its OP session, so after
 * the first login the OP skips its forms; that part is not timed).
 */
export async function loginOnce(app, browser, { measureSizes = false } = {}) {
  browser.jar.delete(new URL(app.baseURL).origin)
  const sizes = {}
  if (measureSizes) {
    await browser.request(`${app.baseURL}/`)
    sizes.before = await sessionSize(app, browser)
  }
  const start = await browser.request(`${app.baseURL}/login`)
  if (start.status !== 302) throw new Error(`${app.name} /login answered ${start.status}: ${start.body.slice(0, 300)}`)
  if (measureSizes) sizes.pending = await sessionSize(app, browser)
  const callbackUrl = await authorizeAtOP(browser, new URL(start.headers.get('location'), start.url).href, `${app.baseURL}/callback`)
  const done = await browser.request(callbackUrl)
  if (done.status !== 302) throw new Error(`${app.name} /callback answered ${done.status}: ${done.body.slice(0, 300)}`)
  if (measureSizes) sizes.after = await sessionSize(app, browser)
  return { loginMs: start.ms, callbackMs: done.ms, sizes }
}
