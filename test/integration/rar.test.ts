/**
 * Rich Authorization Requests (RFC 9396) and typed authorization parameters: `authorization_details`
 * (an array of objects), `claims` (an object) and `max_age` (a number) pushed as the OP expects
 * them, against oidc-provider with `features.richAuthorizationRequests` (the example app's payment
 * policy, example-app/rar-mode.js); what the token response grants is `req.oidc.authorizationDetails`.
 * The hostile OP answers with malformed details (ERR_TOKEN_RESPONSE_INVALID, nothing stored) and
 * with new ones at a refresh. JAR + JARM + RAR + DPoP in one login: jarm.test.ts.
 */

import type express from 'express'
import { DEMO_PAYMENT, PAYMENT_TYPE, rarOpFeatures } from '../../example-app/rar-mode.js'
import type { Answer } from '../support/hostile-op.js'
import { PATHS, useHostileStack } from '../support/hostile-stack.js'
import { storedAuth, storedSession } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

/** The app's view of the login, and a route that starts a login with the query's authorization parameters (JSON). */
function routes(app: express.Express): void {
  app.get('/details', (req, res) => res.json({ sub: req.oidc.user?.sub ?? null, authorizationDetails: req.oidc.authorizationDetails ?? null }))
  app.get('/start', (req, res, next) => res.oidc.login({ returnTo: '/details', authorizationParams: JSON.parse(String(req.query.params)) }, next))
}

const pushed = (stack: Stack) => stack.opEvents.filter((e) => e.name === 'pushed_authorization_request.success').map((e) => ({ ...(e.args[0] as { oidc: { body: Record<string, string> } }).oidc.body }))
const start = (params: Record<string, unknown>) => `/start?params=${encodeURIComponent(JSON.stringify(params))}`

describe('against oidc-provider with Rich Authorization Requests', () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({ opFeatures: rarOpFeatures(), client: { authorization_details_types: [PAYMENT_TYPE] }, routes })
  })
  afterAll(() => stack?.close())

  test('res.oidc.login({ authorizationParams }) with authorization_details, max_age and claims as values: pushed as JSON and digits, consented, granted, readable', async () => {
    const browser = stack.browser()
    const claims = { id_token: { email: { essential: true } } }
    const done = await stack.login(browser, start({ authorization_details: [DEMO_PAYMENT], max_age: 600, claims }))
    expect({ status: done.status, location: done.headers.get('location'), errors: stack.errors }).toEqual({ status: 302, location: '/details', errors: [] })
    const [body] = pushed(stack).slice(-1)
    expect(JSON.parse(body!.authorization_details!)).toEqual([DEMO_PAYMENT])
    expect(body).toMatchObject({ max_age: '600', claims: JSON.stringify(claims) })
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body)).toEqual({ sub: 'alice', authorizationDetails: [DEMO_PAYMENT] })
  })

  test('authorization_details as JSON text (the string form) works the same', async () => {
    const browser = stack.browser()
    expect((await stack.login(browser, start({ authorization_details: JSON.stringify([DEMO_PAYMENT]) }))).status).toBe(302)
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body).authorizationDetails).toEqual([DEMO_PAYMENT])
  })

  test('a login without details grants none, even in an OP session that consented to a payment before', async () => {
    const browser = stack.browser()
    expect((await stack.login(browser, start({ authorization_details: [DEMO_PAYMENT] }))).status).toBe(302)
    expect((await stack.login(browser, start({ prompt: 'consent' }))).status).toBe(302)
    expect(JSON.parse((await browser.request(`${stack.baseURL}/details`)).body)).toEqual({ sub: 'alice', authorizationDetails: null })
    expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).not.toHaveProperty('authorizationDetails')
  })

  test('res.oidc.login() refuses details that are not an array of objects with a type, before anything is pushed (ERR_LOGIN_OPTIONS_INVALID)', async () => {
    const before = pushed(stack).length
    const page = await stack.browser().request(`${stack.baseURL}${start({ authorization_details: [{ instructedAmount: { amount: '1' } }] })}`)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_LOGIN_OPTIONS_INVALID' })
    expect(stack.errors.at(-1)!.message).toBe('res.oidc.login({ authorizationParams }): `authorization_details` entry 0 has no `type` string (RFC 9396 §2 requires one in every detail).')
    expect(pushed(stack).length).toBe(before)
  })

  test('the OP validates the types it knows: an unknown one is its invalid_authorization_details at PAR (ERR_PAR_FAILED)', async () => {
    const page = await stack.browser().request(`${stack.baseURL}${start({ authorization_details: [{ type: 'account_information' }] })}`)
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 502, code: 'ERR_PAR_FAILED' })
    expect(stack.errors.at(-1)).toMatchObject({ error: 'invalid_authorization_details' })
  })
})

describe('against the hostile OP: what the token response grants', () => {
  const stack = useHostileStack({ routes })
  type Body = Record<string, unknown>
  const PAYMENT = { type: PAYMENT_TYPE, instructedAmount: { currency: 'EUR', amount: '10.00' } }
  /** The token endpoint's answers, with `change` applied to the code grant's (`login`) or the refresh's body. */
  const bendToken = (change: Partial<Record<'login' | 'refresh', (body: Body) => Body | string>>) => (valid: Answer, request: { body: URLSearchParams }) => {
    const step = request.body.get('grant_type') === 'refresh_token' ? 'refresh' : 'login'
    const bent = change[step]?.({ ...(valid.body as Body) })
    if (bent === undefined) return valid
    return typeof bent === 'string' ? { ...valid, body: bent, headers: { 'content-type': 'application/json' } } : { ...valid, body: bent }
  }
  const details = async (browser: ReturnType<typeof stack.browser>) => JSON.parse((await browser.request(`${stack.baseURL}/details`)).body).authorizationDetails

  test.each<[string, unknown]>([
    ['an object instead of an array', { type: PAYMENT_TYPE }],
    ['a string', JSON.stringify([PAYMENT])],
    ['an array with a string in it', [PAYMENT_TYPE]],
    ['a detail without type', [{ instructedAmount: { amount: '1' } }]],
    ['a detail whose type is a number', [{ type: 1 }]],
    ['a detail whose type is empty', [{ type: '' }]],
    ['null', null],
  ])('malformed authorization_details (%s): ERR_TOKEN_RESPONSE_INVALID, nobody logged in', async (_name, authorizationDetails) => {
    stack.op.bend.token = bendToken({ login: (b) => ({ ...b, authorization_details: authorizationDetails }) })
    const browser = stack.browser()
    await stack.expectRejected(await stack.login(browser), browser, 502, 'ERR_TOKEN_RESPONSE_INVALID')
    expect(stack.errors.at(-1)!.message).toMatch(/^The token response's authorization_details (must be an array of objects|entry 0 has no `type` string)/)
  })

  test('granted details are stored as plain JSON: a __proto__ member is dropped', async () => {
    stack.op.bend.token = bendToken({ login: (b) => JSON.stringify(b).replace(/}$/, ',"authorization_details":[{"type":"payment_initiation","__proto__":{"isAdmin":true},"creditorName":"A"}]}') })
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(await details(browser)).toEqual([{ type: PAYMENT_TYPE, creditorName: 'A' }])
    // JSON.parse makes "__proto__" an own member; the stored record (parsed the same way) has none.
    const [stored] = storedAuth(storedSession(stack.store, browser, stack.baseURL))!.authorizationDetails!
    expect(Object.keys(stored!)).toEqual(['type', 'creditorName'])
  })

  test('a refresh that grants new details replaces them; one that grants none keeps them; malformed ones are refused and change nothing', async () => {
    const narrowed = [{ ...PAYMENT, instructedAmount: { currency: 'EUR', amount: '5.00' } }]
    stack.op.bend.token = bendToken({ login: (b) => ({ ...b, authorization_details: [PAYMENT] }), refresh: (b) => ({ ...b, authorization_details: narrowed }) })
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    expect(await details(browser)).toEqual([PAYMENT])

    expect((await browser.request(`${stack.baseURL}/refresh`)).status).toBe(200)
    expect(await details(browser)).toEqual(narrowed)

    stack.op.bend.token = bendToken({})
    expect((await browser.request(`${stack.baseURL}/refresh`)).status).toBe(200)
    expect(await details(browser)).toEqual(narrowed)

    stack.op.bend.token = bendToken({ refresh: (b) => ({ ...b, authorization_details: [{ amount: '1' }] }) })
    const refused = await browser.request(`${stack.baseURL}/refresh`)
    expect({ status: refused.status, code: JSON.parse(refused.body).code }).toEqual({ status: 502, code: 'ERR_TOKEN_RESPONSE_INVALID' })
    expect(stack.errors.at(-1)!.message).toMatch(/^The refresh response's authorization_details entry 0 has no `type` string/)
    expect(await details(browser)).toEqual(narrowed) // still logged in, as it was
    expect(stack.op.count(PATHS.token)).toBe(4)
  })
})
