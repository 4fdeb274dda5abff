/**
 * The local OP's pages as a person uses them: oidc-provider's development sign-in form (any login,
 * any password), its consent form ("Continue"), and its "[ Cancel ]" link.
 */

import type { Page } from 'playwright-core'
import { DEMO_USER } from '../../../example-app/local-op.js'
import type { Journey } from './journey.js'

export type OPForm = 'login' | 'consent'

/** Whether `page` shows one of the OP's interaction pages. */
export function atOPInteraction(page: Page, issuer: string): boolean {
  const url = new URL(page.url())
  return url.origin === new URL(issuer).origin && url.pathname.startsWith('/interaction/')
}

/** Clicks `selector` and waits until the tab has loaded a different URL. */
async function submitAndWait(page: Page, selector: string): Promise<void> {
  const before = page.url()
  await Promise.all([page.waitForURL((url) => url.href !== before), page.click(selector)])
}

/** Fills and submits the OP's sign-in form (any password works) and waits for the next page. */
export async function submitSignIn(page: Page, login = DEMO_USER): Promise<void> {
  await page.fill('input[name="login"]', login)
  await page.fill('input[name="password"]', 'any-password')
  await submitAndWait(page, 'button:text-is("Sign-in")')
}

/**
 * Fills whichever OP forms come up in `page` (sign-in, consent; the OP skips those it does not
 * need) until the tab is back on `appOrigin`. Returns the forms it filled, in order.
 */
export async function signInAtOP(page: Page, appOrigin: string, journey?: Journey, login = DEMO_USER): Promise<OPForm[]> {
  const filled: OPForm[] = []
  for (let i = 0; i < 3; i++) {
    if (new URL(page.url()).origin === appOrigin) return filled
    if (!page.url().includes('/interaction/')) {
      throw new Error(`The OP stopped at ${page.url()}: ${(await page.locator('body').innerText()).slice(0, 500)}`)
    }
    if ((await page.locator('input[name="login"]').count()) > 0) {
      await journey?.step(page, 'op-sign-in-form')
      filled.push('login')
      await submitSignIn(page, login)
    } else {
      await journey?.step(page, 'op-consent-form')
      filled.push('consent')
      await submitAndWait(page, 'button:text-is("Continue")')
    }
  }
  if (new URL(page.url()).origin === appOrigin) return filled
  throw new Error(`Still at the OP after ${filled.join(', ')}: ${page.url()}`)
}

/** Clicks the OP's "[ Cancel ]" link, which ends the interaction with `error=access_denied`. */
export async function cancelAtOP(page: Page): Promise<void> {
  await submitAndWait(page, 'a:text-is("[ Cancel ]")')
}
