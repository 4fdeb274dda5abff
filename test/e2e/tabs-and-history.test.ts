/**
 * What browsers do besides the happy path: two tabs logging in at once, the back button after a
 * login, and a callback URL opened a second time.
 *
 * The behaviour chosen for the back button: the callback answers with a redirect, so it never
 * becomes a history entry and going back never replays it. Back walks through the OP's pages
 * (whatever the OP shows for a finished interaction) to the page the login started from, which
 * is never shown from a cache (no-store, and a reload after a back/forward cache restore) and so
 * shows the user logged in. A callback URL that is opened
 * again anyway (reload of a bookmarked or copied URL) gets the app's error page with
 * ERR_LOGIN_NOT_PENDING, and the user stays logged in.
 */

import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { appErrorCode, profileClaims, startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest } from './support/journey.js'
import { atOPInteraction, signInAtOP } from './support/op.js'

let browser: Browser
let example: Example
beforeAll(async () => {
  example = await startExampleOnTwoOrigins()
  browser = await launchChromium()
})
afterAll(async () => {
  await Promise.all([browser?.close(), example?.close()])
})

async function toOP(page: Page, action: () => Promise<unknown>): Promise<void> {
  await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), action()])
}

async function homeText(page: Page): Promise<string> {
  await page.goto(`${example.baseURL}/`)
  return page.locator('body').innerText()
}

describe.each([
  ['the first tab', [0, 1]],
  ['the second tab', [1, 0]],
])('two tabs log in at the same time', (which, order) => {
  journeyTest(`${which} to start finishes first; both end logged in on their own page`, () => browser, async (journey) => {
    const tabs = [await journey.newPage(), await journey.newPage()]
    // Both logins are pending before either finishes: two PAR requests, two OP interactions.
    // (The second starts once the first has reached the OP, i.e. its session cookie is set.)
    await toOP(tabs[0]!, () => tabs[0]!.goto(`${example.baseURL}/profile?tab=1`))
    await toOP(tabs[1]!, () => tabs[1]!.goto(`${example.baseURL}/profile?tab=2`))
    expect(tabs[0]!.url()).not.toBe(tabs[1]!.url())
    await journey.step(tabs[1]!, 'tab-2-at-op')

    for (const i of order) await signInAtOP(tabs[i]!, example.baseURL, journey)

    for (const [i, tab] of tabs.entries()) {
      expect(tab.url()).toBe(`${example.baseURL}/profile?tab=${i + 1}`)
      expect(await appErrorCode(tab)).toBeUndefined()
      expect(await profileClaims(tab)).toMatchObject({ sub: 'alice' })
    }
    // One browser, one session: both tabs see it after a reload.
    for (const tab of tabs) {
      await tab.reload()
      expect(await profileClaims(tab)).toMatchObject({ sub: 'alice' })
    }
  })
})

journeyTest('the back button after login walks back to the start page, logged in, without replaying the callback', () => browser, async (journey) => {
  const page = await journey.newPage()
  await page.goto(`${example.baseURL}/`)
  await toOP(page, () => page.click('#login'))
  await signInAtOP(page, example.baseURL, journey)
  expect(page.url()).toBe(`${example.baseURL}/profile`)

  const appRequests: string[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.origin === example.baseURL) appRequests.push(url.pathname)
  })
  // Back until the home page the login started from; history holds the OP's two form pages.
  for (let i = 0; i < 4 && page.url() !== `${example.baseURL}/`; i++) {
    await page.goBack()
    await journey.step(page, `back-${i + 1}`)
    if (new URL(page.url()).origin === example.baseURL) expect(await appErrorCode(page)).toBeUndefined()
  }
  expect(page.url()).toBe(`${example.baseURL}/`)
  expect(appRequests).toEqual(['/']) // asked anew, not from a cache; no /callback, no /login
  expect(await page.locator('body').innerText()).toContain('Logged in as Alice Example')

  // And forward again, back to the profile.
  for (let i = 0; i < 4 && page.url() !== `${example.baseURL}/profile`; i++) await page.goForward()
  expect(await profileClaims(page)).toMatchObject({ sub: 'alice' })
})

journeyTest('a callback URL opened again shows the app\'s error page (ERR_LOGIN_NOT_PENDING) and the user stays logged in', () => browser, async (journey) => {
  const page = await journey.newPage()
  const callbacks: string[] = []
  page.on('request', (request) => {
    if (request.url().startsWith(`${example.baseURL}/callback?`)) callbacks.push(request.url())
  })
  await toOP(page, () => page.goto(`${example.baseURL}/profile`))
  await signInAtOP(page, example.baseURL, journey)
  expect(callbacks).toHaveLength(1)

  const replay = await page.goto(callbacks[0]!)
  await journey.step(page, 'replayed-callback')
  expect(replay?.status()).toBe(400)
  expect(await appErrorCode(page)).toBe('ERR_LOGIN_NOT_PENDING')

  expect(await homeText(page)).toContain('Logged in as Alice Example')
})
