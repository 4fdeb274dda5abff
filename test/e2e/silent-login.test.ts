/**
 * Silent login in Chromium (the example app with attemptSilentLogin()): a first page load makes
 * one prompt=none trip through the OP; without an OP session the visitor lands back on the page,
 * anonymous, with no error and no second trip; with one, on the page, logged in.
 */

import type { Browser, Page } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { appErrorCode, profileClaims, startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest } from './support/journey.js'
import { atOPInteraction, signInAtOP } from './support/op.js'

let browser: Browser
let example: Example
beforeAll(async () => {
  example = await startExampleOnTwoOrigins({ silentLogin: true })
  browser = await launchChromium()
})
afterAll(async () => {
  await Promise.all([browser?.close(), example?.close()])
})

/** The paths of the document requests of `page` (app and OP), as they happen. */
function documentRequests(page: Page): string[] {
  const seen: string[] = []
  page.on('request', (request) => {
    if (request.resourceType() !== 'document') return
    const url = new URL(request.url())
    seen.push(`${url.origin === example.issuer ? 'op' : 'app'} ${url.pathname}`)
  })
  return seen
}

journeyTest('without an OP session: one trip through the OP, back on the page anonymous, no error, no loop', () => browser, async (journey) => {
  const page = await journey.newPage()
  const seen = documentRequests(page)
  await page.goto(`${example.baseURL}/?from=link`)
  await page.waitForURL(`${example.baseURL}/?from=link`)
  await journey.step(page, 'home-after-silent-login')
  expect(seen).toEqual(['app /', 'op /auth', 'app /callback', 'app /'])
  expect(await appErrorCode(page)).toBeUndefined()
  expect(await page.locator('body').innerText()).toContain('You are not logged in')

  seen.length = 0
  await page.reload()
  await page.goto(`${example.baseURL}/`)
  expect(seen).toEqual(['app /', 'app /'])
  // The marker is in the session: the app sets no cookie of its own for it.
  expect((await journey.context.cookies(example.baseURL)).map((cookie) => cookie.name)).toEqual(['connect.sid'])
})

journeyTest('with an OP session: a new app session is logged in without a form, on the page it asked for', () => browser, async (journey) => {
  const page = await journey.newPage()
  await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), page.goto(`${example.baseURL}/profile`)])
  await signInAtOP(page, example.baseURL, journey)
  expect(await profileClaims(page)).toMatchObject({ sub: 'alice' })

  // The app's session ends (its cookie is gone); the OP's (on another site) stays.
  await journey.context.clearCookies({ domain: 'localhost' })
  expect((await journey.context.cookies(example.issuer)).length).toBeGreaterThan(0)
  const seen = documentRequests(page)
  await page.goto(`${example.baseURL}/?from=bookmark`)
  await page.waitForURL(`${example.baseURL}/?from=bookmark`)
  await journey.step(page, 'logged-in-silently')
  expect(seen).toEqual(['app /', 'op /auth', 'app /callback', 'app /'])
  expect(await page.locator('body').innerText()).toContain('Logged in as Alice Example')
})
