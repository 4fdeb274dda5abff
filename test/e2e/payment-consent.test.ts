/**
 * The example app's payment consent in Chromium (`npm start -- --jar --jarm --rar`): "Pay" on the
 * home page, the OP's sign-in and consent (which lists the payment), back with a signed response,
 * and the profile shows what the OP granted (RFC 9396 authorization_details).
 */

import type { Browser } from 'playwright-core'
import { launchChromium } from './support/chromium.js'
import { startExampleOnTwoOrigins, type Example } from './support/example.js'
import { journeyTest } from './support/journey.js'
import { atOPInteraction, signInAtOP, submitSignIn } from './support/op.js'

let browser: Browser
let example: Example
beforeAll(async () => {
  browser = await launchChromium()
  example = await startExampleOnTwoOrigins({ jar: true, jarm: true, rar: true })
})
afterAll(async () => {
  await example?.close()
  await browser?.close()
})

journeyTest('"Pay" asks the OP for consent to the payment, and the profile shows the granted details', () => browser, async (journey) => {
  const page = await journey.newPage()
  const callbacks: URL[] = []
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (url.origin === example.baseURL && url.pathname === '/callback') callbacks.push(url)
  })
  await page.goto(`${example.baseURL}/`)
  expect(await page.locator('#payment-amount').innerText()).toBe('123.50 EUR')
  await journey.step(page, 'home')

  await Promise.all([page.waitForURL(() => atOPInteraction(page, example.issuer)), page.click('#pay')])
  await submitSignIn(page)
  // The OP's consent page shows the payment it is asked to authorize.
  const consent = await page.locator('body').innerText()
  expect(consent).toContain('authorization_details')
  expect(consent).toContain('"creditorName": "Merchant A"')
  await journey.step(page, 'op-consent-with-payment')
  expect(await signInAtOP(page, example.baseURL, journey)).toEqual(['consent'])
  // JARM: the browser brought back nothing but the OP's signed response.
  expect(callbacks.map((url) => [...url.searchParams.keys()])).toEqual([['response']])

  expect(page.url()).toBe(`${example.baseURL}/profile`)
  await journey.step(page, 'profile')
  const granted = await page.locator('#authorization-details tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('th')?.textContent, tr.querySelector('td')?.textContent]))
  expect(granted).toEqual([['payment_initiation', expect.stringContaining('instructedAmount: currency: EUR; amount: 123.50')]])
  expect(granted[0]![1]).toContain('creditorName: Merchant A')
})
