/**
 * Logout in Chromium, as another site and as the user: a cross-site link, image or form never
 * logs the user out (the app answers 403 ERR_LOGOUT_CROSS_SITE to the link, and the session
 * stays); and "log out everywhere": logged in to two apps of one OP session, ending that session
 * at the OP logs both out over the back channel.
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { appErrorCode, profileClaims, startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest } from './support/journey.js'
import { atOPInteraction, signInAtOP } from './support/op.js'

let browser: Browser
let example: Example
/** Another site: 127.0.0.2 is neither localhost (the apps) nor 127.0.0.1 (the OP). */
let attacker: { url: string; close(): Promise<void> }

/** A page on another site that tries to log the user out of the app in three ways. */
function attackerPage(appURL: string): string {
  return `<!doctype html><title>Win a prize</title>
    <img id="img" src="${appURL}/logout" alt="">
    <iframe name="sink" style="display:none"></iframe>
    <form id="post" method="post" action="${appURL}/logout" target="sink"></form>
    <a id="link" href="${appURL}/logout">Claim your prize</a>
    <script>addEventListener('load', () => document.getElementById('post').submit())</script>`
}

async function startAttacker(appURL: string): Promise<typeof attacker> {
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackerPage(appURL)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve))
  return {
    url: `http://127.0.0.2:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  }
}

beforeAll(async () => {
  example = await startExampleOnTwoOrigins({ twoApps: true })
  attacker = await startAttacker(example.baseURL)
  browser = await launchChromium()
})
afterAll(async () => {
  await Promise.all([browser?.close(), example?.close(), attacker?.close()])
})

async function logIn(page: Page, appURL: string): Promise<void> {
  await page.goto(`${appURL}/profile`)
  if (atOPInteraction(page, example.issuer)) await signInAtOP(page, appURL)
  await page.waitForURL(`${appURL}/profile`)
  expect(await profileClaims(page)).toMatchObject({ sub: 'alice' })
}

journeyTest('another site\'s image, form and link do not log the user out: the link gets 403 ERR_LOGOUT_CROSS_SITE', () => browser, async (journey) => {
  const page = await journey.newPage()
  await logIn(page, example.baseURL)

  // What the app answered (seen at the server: Chromium blocks the image's HTML answer itself, ORB).
  const logoutAnswers: Array<[string, number]> = []
  let imageAndForm: () => void = () => {}
  const bothAnswered = new Promise<void>((resolve) => (imageAndForm = resolve))
  const record = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!req.url?.startsWith('/logout')) return
    res.on('finish', () => {
      if (logoutAnswers.push([req.method!, res.statusCode]) === 2) imageAndForm()
    })
  }
  example.server.on('request', record)
  await page.goto(attacker.url)
  await bothAnswered // the image and the auto-submitted form
  await journey.step(page, 'attacker-page')
  await Promise.all([page.waitForURL(`${example.baseURL}/logout`), page.click('#link')])
  await journey.step(page, 'cross-site-logout-refused')
  expect(await appErrorCode(page)).toBe('ERR_LOGOUT_CROSS_SITE')
  // The image, the form POST (without its Lax cookie, and Fetch Metadata says cross-site) and the
  // link all reached the app, and each was refused.
  expect(logoutAnswers.filter(([, status]) => status !== 403)).toEqual([])
  expect(logoutAnswers.map(([method]) => method).sort()).toEqual(['GET', 'GET', 'POST'])
  example.server.off('request', record)

  await page.goto(`${example.baseURL}/profile`)
  expect(await profileClaims(page)).toMatchObject({ sub: 'alice' })
})

journeyTest('log out everywhere: logged in to both apps, ending the session at the OP logs both out', () => browser, async (journey) => {
  const second = example.second!.baseURL
  const page = await journey.newPage()
  await logIn(page, example.baseURL)
  await logIn(page, second) // single sign-on: the OP knows the user, no form
  const sid = await page.locator('#sid').innerText()
  expect(sid).toMatch(/^[\w-]{10,}$/)
  await journey.step(page, 'second-app-profile')

  await Promise.all([page.waitForURL((url) => url.origin === example.issuer), page.click('#end-op-session')])
  await Promise.all([page.waitForURL((url) => `${url.origin}${url.pathname}` === `${second}/`), page.click('button:text-is("Yes, sign me out")')])
  await journey.step(page, 'second-app-home')
  expect(await page.locator('body').innerText()).toContain('You are not logged in')

  // The first app was told over the back channel: its session is gone too.
  await page.goto(`${example.baseURL}/`)
  expect(await page.locator('body').innerText()).toContain('You are not logged in')
  await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), page.goto(`${example.baseURL}/profile`)])
  expect(await page.locator('input[name="login"]').count()).toBe(1)
})

journeyTest('a same-origin GET (the user types /logout) logs out: Fetch Metadata says none', () => browser, async (journey) => {
  const page = await journey.newPage()
  await logIn(page, example.baseURL)
  await page.goto(`${example.baseURL}/logout`)
  await page.waitForURL((url) => url.origin === example.issuer) // idpLogout: on to the OP's confirmation
  await journey.step(page, 'op-logout-confirmation')
  await page.goto(`${example.baseURL}/`)
  expect(await page.locator('body').innerText()).toContain('You are not logged in')
  expect((await journey.context.cookies(example.baseURL)).map((cookie) => cookie.name)).not.toContain('connect.sid')
})
