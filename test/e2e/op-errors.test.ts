/**
 * An OP that refuses the login (here: the user cancels at the OP, which answers the callback with
 * `error=access_denied`) is shown as the app's own error page with a stable code, never a stack
 * trace, and the user can simply try again.
 */

import type { Browser } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { appErrorCode, profileClaims, startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest } from './support/journey.js'
import { atOPInteraction, cancelAtOP, signInAtOP, submitSignIn } from './support/op.js'

let browser: Browser
let example: Example
beforeAll(async () => {
  example = await startExampleOnTwoOrigins()
  browser = await launchChromium()
})
afterAll(async () => {
  await Promise.all([browser?.close(), example?.close()])
})

/** Source positions of a stack trace (`at fn (/path/file.js:10:5)`) or a module path. */
const STACK_TRACE = /\bat .*:\d+:\d+|node_modules|\.(?:js|ts):\d+/

describe.each([
  ['sign-in', false],
  ['consent', true],
])('cancelling at the OP', (form, signInFirst) => {
  journeyTest(`on its ${form} form shows the app's error page with ERR_LOGIN_REFUSED, then a new login works`, () => browser, async (journey) => {
    const page = await journey.newPage()
    await page.goto(`${example.baseURL}/`)
    await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), page.click('#login')])
    if (signInFirst) {
      await submitSignIn(page)
      await page.locator('button:text-is("Continue")').waitFor()
    }
    await journey.step(page, `op-${form}-form`)

    const callback = page.waitForResponse((response) => response.url().startsWith(`${example.baseURL}/callback?`))
    await cancelAtOP(page)
    await journey.step(page, 'error-page')
    expect((await callback).status()).toBe(400)
    expect(new URL(page.url()).searchParams.get('error')).toBe('access_denied')
    expect(await appErrorCode(page)).toBe('ERR_LOGIN_REFUSED')
    const text = await page.locator('body').innerText()
    expect(text).toContain('Login problem')
    expect(text).not.toMatch(STACK_TRACE)
    expect(text).not.toContain('End-User aborted interaction') // the OP's description is never rendered

    // Try again from the error page.
    await page.click('a:text-is("Home")')
    await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), page.click('#login')])
    await signInAtOP(page, example.baseURL, journey)
    expect(await profileClaims(page)).toMatchObject({ sub: 'alice' })
  })
})
