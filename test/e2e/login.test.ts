/**
 * Logging in to the example app in Chromium, the way a person does, once per login mode of the
 * example app (see LOGIN_MODES): from the home page, through a deep link, and out again.
 */

import { mkdir } from 'node:fs/promises'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { LOGIN_MODES, appErrorCode, profileClaims, startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest, type Journey } from './support/journey.js'
import { atOPInteraction, signInAtOP } from './support/op.js'

/**
 * Where the logged-in profile screenshot of the first mode goes: test-results/ on every run, and
 * docs/profile.png (the README's picture) with `npm run docs:screenshot`.
 */
const PROFILE_SCREENSHOT = path.resolve(process.env.E2E_PROFILE_SCREENSHOT || 'test-results/profile.png')

let browser: Browser
beforeAll(async () => {
  browser = await launchChromium()
})
afterAll(async () => {
  await browser?.close()
})

/** Screenshots the page's content (the body and a margin around it). */
async function screenshotContent(page: Page, file: string): Promise<void> {
  const box = await page.locator('body').boundingBox()
  if (!box) throw new Error('The page has no visible body to screenshot.')
  await mkdir(path.dirname(file), { recursive: true })
  await page.screenshot({ path: file, clip: { x: Math.max(0, box.x - 32), y: 0, width: box.width + 64, height: box.y + box.height + 32 } })
}

describe.each(LOGIN_MODES)('$name', (mode) => {
  const { options, signedRequestObject } = mode
  const modeIndex = LOGIN_MODES.indexOf(mode)
  const profileScreenshot = modeIndex === 0 ? PROFILE_SCREENSHOT : path.resolve(`test-results/profile-mode-${modeIndex}.png`)

  let example: Example
  beforeAll(async () => {
    example = await startExampleOnTwoOrigins(options)
  })
  afterAll(async () => {
    await example?.close()
  })

  /** Runs `action` (a click or a navigation that starts a login) and waits for the OP's first form. */
  async function toOP(page: Page, action: () => Promise<unknown>): Promise<void> {
    await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), action()])
  }

  async function expectProfileOfAlice(page: Page, journey: Journey, pathAndQuery = '/profile'): Promise<void> {
    expect(page.url()).toBe(`${example.baseURL}${pathAndQuery}`)
    await journey.step(page, 'profile')
    expect(await profileClaims(page)).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com', email_verified: 'true' })
  }

  journeyTest('"Log in" on the home page leads through the OP to the profile with the user\'s claims', () => browser, async (journey) => {
    const page = await journey.newPage()
    const authorizationRequests: URL[] = []
    page.on('request', (request) => {
      const url = new URL(request.url())
      if (url.origin === example.issuer && url.pathname === '/auth') authorizationRequests.push(url)
    })
    const pushed: Array<Record<string, unknown>> = []
    const onPushed = (ctx: { oidc: { body: Record<string, unknown> } }) => pushed.push({ ...ctx.oidc.body })
    example.op.provider.on('pushed_authorization_request.success', onPushed)
    await page.goto(`${example.baseURL}/`)
    expect(await page.locator('body').innerText()).toContain('You are not logged in')
    await journey.step(page, 'home')

    await toOP(page, () => page.click('#login'))
    // PAR: the browser carries nothing but client_id and request_uri to the OP.
    expect(authorizationRequests.map((url) => [...url.searchParams.keys()].sort())).toEqual([['client_id', 'request_uri']])
    example.op.provider.off('pushed_authorization_request.success', onPushed)
    expect(pushed).toHaveLength(1)
    // JAR: the pushed request is one signed request object, not loose parameters.
    expect(Object.keys(pushed[0]!).includes('request')).toBe(signedRequestObject)
    expect(Object.keys(pushed[0]!).includes('code_challenge')).toBe(!signedRequestObject)
    expect(await signInAtOP(page, example.baseURL, journey)).toEqual(['login', 'consent'])

    await expectProfileOfAlice(page, journey)
    await screenshotContent(page, profileScreenshot)

    const [sessionCookie] = await journey.context.cookies(example.baseURL)
    expect(sessionCookie).toMatchObject({ name: 'connect.sid', httpOnly: true, sameSite: 'Lax' })
    await page.goto(`${example.baseURL}/`)
    expect(await page.locator('body').innerText()).toContain('Logged in as Alice Example')
  })

  journeyTest('a deep link to a protected page survives the login round trip', () => browser, async (journey) => {
    const page = await journey.newPage()
    await toOP(page, () => page.goto(`${example.baseURL}/profile?tab=security#devices`))
    await signInAtOP(page, example.baseURL, journey)
    // The fragment never reaches a server, so it cannot come back; the path and query do.
    await expectProfileOfAlice(page, journey, '/profile?tab=security')
  })

  journeyTest('"Log out" ends the app session and the OP session; Back after it never shows claims', () => browser, async (journey) => {
    const page = await journey.newPage()
    await toOP(page, () => page.goto(`${example.baseURL}/profile`))
    await signInAtOP(page, example.baseURL, journey)
    await expectProfileOfAlice(page, journey)

    // "Log out" is a POST form; the app ends its session and sends the browser to the OP, which asks.
    await Promise.all([page.waitForURL((url) => url.origin === example.issuer), page.click('#logout')])
    await journey.step(page, 'op-logout-confirmation')
    expect(await page.locator('body').innerText()).toContain('Do you want to sign-out')
    // Back home, with the state express-par sent to the end_session_endpoint.
    await Promise.all([page.waitForURL((url) => `${url.origin}${url.pathname}` === `${example.baseURL}/` && /^\?state=[\w-]{43}$/.test(url.search)), page.click('button:text-is("Yes, sign me out")')])
    await journey.step(page, 'logged-out')
    expect(await page.locator('body').innerText()).toContain('You are not logged in')
    expect(await page.evaluate(async () => (await fetch('/api/me')).status)).toBe(401)

    // Back: first the OP's logout page, asked anew (its session gone, it returns straight to the
    // logged-out home), then the profile, asked anew (never from a cache), which starts a login that
    // the OP, its session ended too, answers with its sign-in form instead of logging the user back
    // in. No step shows a claim.
    const seen: string[] = []
    for (let i = 0; i < 6 && !atOPInteraction(page, example.issuer); i++) {
      await page.goBack({ waitUntil: 'load' }).catch(() => undefined)
      await page.waitForLoadState('load')
      seen.push(new URL(page.url()).pathname)
      await journey.step(page, `back-${i + 1}`)
      expect(await page.locator('#claims').count()).toBe(0)
    }
    expect(atOPInteraction(page, example.issuer)).toBe(true)
    expect(await page.locator('input[name="login"]').count()).toBe(1)
    expect(await page.locator('#claims').count()).toBe(0)
  })
})
