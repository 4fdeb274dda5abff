/**
 * Property-based fuzzing (fast-check) of what the outside world sends: the callback's query
 * string (browser / attacker) and the PAR and token endpoint responses (OP). Whatever arrives:
 * never a 500, never a crash or unhandled rejection (Jest fails any test during which a rejection
 * goes unhandled), and never a session unless the input is valid.
 */

import fc from 'fast-check'
import type { Answer } from '../support/hostile-op.js'
import { PATHS, startHostileStack, type HostileStack } from '../support/hostile-stack.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 60)
let stack: HostileStack

beforeAll(async () => {
  stack = await startHostileStack()
})
afterAll(async () => {
  await stack.close()
})

const PROTOCOL = ['state', 'code', 'iss', 'error', 'error_description', 'response']
const text = fc.string({ unit: 'binary', maxLength: 40 })

async function isLoggedIn(browser: ReturnType<HostileStack['browser']>): Promise<boolean> {
  return (JSON.parse((await browser.request(`${stack.baseURL}/`)).body) as { authenticated: boolean }).authenticated
}

test('fuzzed callback query strings: a login only for the genuine response, never a 500', async () => {
  /** One parameter of the callback: the genuine value, a forged one, absent, or twice. */
  const param = fc.oneof({ weight: 4, arbitrary: fc.constant('genuine') }, { weight: 1, arbitrary: fc.constantFrom('forged', 'absent', 'twice', 'empty') })
  const rarely = fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: text })
  const extra = fc.array(fc.tuple(text.filter((k) => !PROTOCOL.includes(k)), text), { maxLength: 4 })
  const raw = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, fc.string({ maxLength: 30 }), fc.constantFrom('%', '%zz', '&&=&', '%00', 'state', 'code=&code', '\u0000', '%E0%A4%A'))

  let loggedIn = 0
  await fc.assert(
    fc.asyncProperty(param, param, param, rarely, rarely, extra, raw, async (state, code, iss, error, response, extras, garbage) => {
      await stack.op.reset()
      stack.store.clear()
      const browser = stack.browser()
      const genuine = new URL(await stack.authorize(browser)).searchParams
      const query = new URLSearchParams()
      for (const [name, how] of [['state', state], ['code', code], ['iss', iss]] as const) {
        if (how === 'genuine' || how === 'twice') query.append(name, genuine.get(name)!)
        if (how === 'twice') query.append(name, genuine.get(name)!)
        if (how === 'forged') query.append(name, `forged-${name}`)
        if (how === 'empty') query.append(name, '')
      }
      if (error !== null) query.append('error', error)
      if (response !== null) query.append('response', response)
      for (const [k, v] of extras) query.append(k, v)
      const search = [query.toString(), garbage].filter(Boolean).join('&')

      const page = await browser.request(`${stack.baseURL}/callback?${search}`)
      // The model: what the middleware itself sees.
      const seen = new URLSearchParams(search)
      const once = (name: string) => seen.getAll(name).length === 1 && seen.get(name) === genuine.get(name)
      const names = [...seen.keys()]
      const noneTwice = new Set(names).size === names.length // RFC 6749 §3.1, for every parameter
      const valid = once('state') && once('code') && once('iss') && !seen.get('error') && !seen.get('response') && noneTwice

      expect(page.status).not.toBe(500)
      if (valid) {
        expect(page.status).toBe(302)
        expect(await isLoggedIn(browser)).toBe(true)
        loggedIn++
      } else {
        expect([400, 502]).toContain(page.status)
        expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]/)
        expect(await isLoggedIn(browser)).toBe(false)
        expect(await stack.anyLoggedIn()).toBe(false)
      }
    }),
    { numRuns: RUNS, examples: [['genuine', 'genuine', 'genuine', null, null, [], '']] },
  )
  expect(loggedIn).toBeGreaterThan(0)
})

/**
 * JSON-ish bodies with the fields an OP response has, each mostly valid, sometimes any JSON value,
 * sometimes absent; now and then not an object at all.
 */
function responseBody(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const field = (valid: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }, { weight: 1, arbitrary: fc.constant(undefined) })
  const record = fc.record(Object.fromEntries(Object.entries(fields).map(([name, valid]) => [name, field(valid)])))
  return fc.oneof({ weight: 6, arbitrary: record }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }, { weight: 1, arbitrary: fc.string({ maxLength: 50 }) })
}

const otherStatus = fc.constantFrom(200, 201, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503)
const statusMostly = (status: number) => fc.oneof({ weight: 4, arbitrary: fc.constant(status) }, { weight: 1, arbitrary: otherStatus })

test('fuzzed PAR responses: /login redirects only with the request_uri sent, else 502, never a 500', async () => {
  const body = responseBody({
    request_uri: fc.constantFrom('urn:ietf:params:oauth:request_uri:ok', 'urn:ietf:params:oauth:request_uri:ok', ''),
    expires_in: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.double()),
    error: fc.constant(undefined),
  })
  let redirected = 0
  await fc.assert(
    fc.asyncProperty(statusMostly(201), body, async (status, sent) => {
      await stack.op.reset()
      stack.store.clear()
      stack.op.bend.par = (): Answer => ({ status, body: sent })
      const browser = stack.browser()
      const page = await stack.startLogin(browser)
      expect([302, 502]).toContain(page.status)
      if (page.status === 302) {
        const requestUri = new URL(page.headers.get('location')!).searchParams.get('request_uri')
        expect(requestUri).toBe((sent as { request_uri: string }).request_uri)
        expect(status).toBe(201)
        redirected++
      } else {
        expect(JSON.parse(page.body).code).toBe('ERR_PAR_FAILED')
        expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]/)
        expect(await stack.sessions()).toEqual([])
      }
    }),
    { numRuns: RUNS, examples: [[201, { request_uri: 'urn:ietf:params:oauth:request_uri:ok', expires_in: 60 }]] },
  )
  expect(redirected).toBeGreaterThan(0)
})

test('fuzzed token responses: a session only with a genuine ID token and an access token, never a 500', async () => {
  const body = responseBody({
    access_token: fc.constantFrom('at-1', ''),
    token_type: fc.constantFrom('Bearer', 'bearer', 'mac', 'DPoP', ''),
    expires_in: fc.oneof(fc.integer({ min: -5, max: 3600 }), fc.constantFrom('300', 'soon')),
    id_token: fc.constantFrom('GENUINE', 'GENUINE', 'a.b.c', ''),
    refresh_token: fc.constant('rt-1'),
    scope: fc.constant('openid'),
    error: fc.constant(undefined),
  })
  let loggedIn = 0
  await fc.assert(
    fc.asyncProperty(statusMostly(200), body, async (status, sent) => {
      await stack.op.reset()
      stack.store.clear()
      stack.op.bend.token = (valid): Answer => {
        const genuine = (valid.body as { id_token: string }).id_token
        const replaced = sent && typeof sent === 'object' && !Array.isArray(sent) && (sent as Record<string, unknown>).id_token === 'GENUINE' ? { ...sent, id_token: genuine } : sent
        return { status, body: replaced }
      }
      const browser = stack.browser()
      const page = await stack.login(browser)
      expect([302, 400, 502]).toContain(page.status)
      const fields = (sent && typeof sent === 'object' && !Array.isArray(sent) ? sent : {}) as Record<string, unknown>
      const couldBeValid = status === 200 && fields.id_token === 'GENUINE' && typeof fields.access_token === 'string' && typeof fields.token_type === 'string'
      if (!couldBeValid) expect(page.status).not.toBe(302)
      expect(await isLoggedIn(browser)).toBe(page.status === 302)
      if (page.status !== 302) expect(await stack.anyLoggedIn()).toBe(false)
      if (page.status !== 302) expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]/)
      expect(stack.op.count(PATHS.token)).toBe(1)
      if (page.status === 302) loggedIn++
    }),
    { numRuns: RUNS, examples: [[200, { access_token: 'at-1', token_type: 'Bearer', id_token: 'GENUINE' }]] },
  )
  expect(loggedIn).toBeGreaterThan(0)
})
