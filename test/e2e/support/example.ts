/**
 * The example app and its local OP for the browser tests: the app at http://localhost:PORT and the
 * OP at http://127.0.0.1:PORT2, two sites as in production, so cookies, SameSite and cross-site
 * redirects behave as they do for real users.
 */

import type { Page } from 'playwright-core'
import { startExample } from '../../../example-app/stack.js'

export type ExampleOptions = NonNullable<Parameters<typeof startExample>[0]>
export type Example = Awaited<ReturnType<typeof startExample>>

/**
 * The ways the example app can log in. The login scenarios run once per mode: a new mode (JAR,
 * private_key_jwt, ...) is one more entry with the startExample() options that switch it on.
 */
export const LOGIN_MODES: Array<{ name: string; options: ExampleOptions; signedRequestObject: boolean }> = [
  { name: 'PAR with client_secret_basic', options: {}, signedRequestObject: false },
  { name: 'PAR + JAR (signed request object) with private_key_jwt', options: { jar: true }, signedRequestObject: true },
  { name: 'FAPI 2.0 configuration: private_key_jwt + DPoP (npm start -- --fapi)', options: { fapi: true }, signedRequestObject: false },
  { name: 'PAR + JAR + JARM (signed request and signed response) with private_key_jwt (npm start -- --jar --jarm)', options: { jar: true, jarm: true }, signedRequestObject: true },
]

/** Starts the example on two loopback origins; `options` as for startExample(). */
export function startExampleOnTwoOrigins(options: ExampleOptions = {}): Promise<Example> {
  return startExample({ ...options, appHost: 'localhost', appPort: 0, opHost: '127.0.0.1', opPort: 0 })
}

/** The HTTP status and error code shown by the app's error page in `page`, or undefined if not on it. */
export async function appErrorCode(page: Page): Promise<string | undefined> {
  const code = page.locator('#error-code')
  return (await code.count()) > 0 ? (await code.innerText()).trim() : undefined
}

/** The claims table of the profile page, as name -> the value shown (text). */
export async function profileClaims(page: Page): Promise<Record<string, string>> {
  const rows = await page.locator('#claims tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent ?? '', tr.querySelector('td')?.textContent ?? '']))
  return Object.fromEntries(rows)
}
