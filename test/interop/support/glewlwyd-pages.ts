/**
 * Glewlwyd's packaged login web app (login.html, a single-page app) as a person uses it: the
 * login and password form, the "Continue" to the client application, and the end-session prompt.
 */

import type { Page } from 'playwright-core'
import type { Journey } from '../../e2e/support/journey.js'
import { USER } from './glewlwyd-op.js'

const LOGIN_FORM = '#username'
const CONTINUE = 'button[title="Continue to client application"]'

/** Whether `page` shows Glewlwyd's web app (at `origin`). */
export function atGlewlwyd(page: Page, origin: string): boolean {
  const url = new URL(page.url())
  return url.origin === origin && url.pathname === '/login.html'
}

/** Waits until the single-page app has rendered one of `selectors`; resolves to the one it shows. */
async function shown(page: Page, selectors: string[]): Promise<string> {
  await page.locator(selectors.join(', ')).first().waitFor()
  for (const selector of selectors) if (await page.locator(selector).isVisible()) return selector
  throw new Error(`None of ${selectors.join(', ')} is visible at ${page.url()}`)
}

/**
 * Signs in at Glewlwyd (when it asks: a live Glewlwyd session skips the form) and continues to the
 * client, then waits until the tab is back on `appOrigin`. Resolves to whether the password form
 * was shown.
 */
export async function signInAtGlewlwyd(page: Page, appOrigin: string, journey?: Journey, user = USER): Promise<{ askedForPassword: boolean }> {
  const first = await shown(page, [LOGIN_FORM, CONTINUE])
  const askedForPassword = first === LOGIN_FORM
  if (askedForPassword) {
    await journey?.step(page, 'glewlwyd-login-form')
    await page.fill('#username', user.username)
    await page.fill('#password', user.password)
    await page.click('#loginbut')
    await shown(page, [CONTINUE])
  }
  await journey?.step(page, 'glewlwyd-continue')
  await Promise.all([page.waitForURL((url) => url.origin === appOrigin), page.click(CONTINUE)])
  return { askedForPassword }
}

/** On Glewlwyd's end-session prompt ("The client wishes you to close the current session"), clicks "Logout". */
export async function confirmEndSession(page: Page, journey?: Journey): Promise<void> {
  const logout = page.locator('button.btn-danger', { hasText: 'Logout' }).first()
  await logout.waitFor()
  await journey?.step(page, 'glewlwyd-end-session')
  await logout.click()
}
