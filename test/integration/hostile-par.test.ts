/**
 * A PAR endpoint that fails, lies or never answers (RFC 9126 §2.2-2.3; FAPI 2.0 client tests'
 * "PAR errors" / invalid expires_in and request_uri). `/login` must answer 502/504 with a stable
 * code, redirect nowhere, and store no pending login.
 */

import type { Answer } from '../support/hostile-op.js'
import { PATHS, useHostileStack } from '../support/hostile-stack.js'

const HTTP_TIMEOUT = 700
const stack = useHostileStack({ auth: { httpTimeout: HTTP_TIMEOUT } })

async function expectLoginFails(answer: Answer, status: number, code: string): Promise<void> {
  stack.op.bend.par = () => answer
  const browser = stack.browser()
  const page = await stack.startLogin(browser)
  expect({ status: page.status, code: JSON.parse(page.body).code, location: page.headers.get('location') }).toEqual({ status, code, location: null })
  expect(await stack.sessions()).toEqual([]) // no pending login, no session
  expect(stack.op.count(PATHS.par)).toBe(1)
}

const requestUri = 'urn:ietf:params:oauth:request_uri:abc'

describe('refused PAR responses', () => {
  const cases: Array<[string, Answer]> = [
    ['400 invalid_request (RFC 9126 §2.3)', { status: 400, body: { error: 'invalid_request', error_description: 'bad' } }],
    ['401 invalid_client', { status: 401, body: { error: 'invalid_client' } }],
    ['400 invalid_request_object (JAR refused)', { status: 400, body: { error: 'invalid_request_object' } }],
    ['405 with an empty body', { status: 405, body: '' }],
    ['413 Payload Too Large (RFC 9126 §2.3)', { status: 413, body: '' }],
    ['429 Too Many Requests (RFC 9126 §2.3)', { status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '5' } }],
    ['500 with an HTML page', { status: 500, body: '<html>oops</html>' }],
    ['503 with JSON that is not an OAuth error', { status: 503, body: { message: 'maintenance' } }],
    ['200 instead of 201 (RFC 9126 §2.2)', { status: 200, body: { request_uri: requestUri, expires_in: 60 } }],
    ['201 with a body that is not JSON', { status: 201, body: 'request_uri=x' }],
    ['201 with a JSON array', { status: 201, body: [requestUri, 60] }],
    ['201 with JSON null', { status: 201, body: null }],
    ['no request_uri', { status: 201, body: { expires_in: 60 } }],
    ['request_uri that is a number', { status: 201, body: { request_uri: 42, expires_in: 60 } }],
    ['an empty request_uri', { status: 201, body: { request_uri: '', expires_in: 60 } }],
    ['no expires_in', { status: 201, body: { request_uri: requestUri } }],
    ['a negative expires_in', { status: 201, body: { request_uri: requestUri, expires_in: -60 } }],
    ['expires_in 0 (RFC 9126 §2.2: a positive integer)', { status: 201, body: { request_uri: requestUri, expires_in: 0 } }],
    ['expires_in "0"', { status: 201, body: { request_uri: requestUri, expires_in: '0' } }],
    ['a fractional expires_in', { status: 201, body: { request_uri: requestUri, expires_in: 0.5 } }],
    ['expires_in that is not a number', { status: 201, body: { request_uri: requestUri, expires_in: 'soon' } }],
    ['an error body with a 201', { status: 201, body: { error: 'invalid_request' } }],
  ]
  test.each(cases)('%s -> 502 ERR_PAR_FAILED', async (_name, answer) => {
    await expectLoginFails(answer, 502, 'ERR_PAR_FAILED')
  })

  test("the OP's error is kept on the error object", async () => {
    await expectLoginFails({ status: 400, body: { error: 'invalid_request', error_description: 'redirect_uri not registered' } }, 502, 'ERR_PAR_FAILED')
    expect(stack.errors.at(-1)).toMatchObject({ error: 'invalid_request', errorDescription: 'redirect_uri not registered' })
  })

  test("the message says what was sent and the OP's reason (the back channel's, so not the browser's)", async () => {
    await expectLoginFails({ status: 400, body: { error: 'invalid_redirect_uri', error_description: 'redirect_uri not registered' } }, 502, 'ERR_PAR_FAILED')
    const { message } = stack.errors.at(-1)!
    expect(message).toContain('error=invalid_redirect_uri, saying "redirect_uri not registered"')
    expect(message).toContain(`client_id=hostile-client, redirect_uri=${stack.baseURL}/callback, client authentication client_secret_basic`)
  })

  test("the OP's reason is sanitised for the message: no markup, quotes or control characters, at most 200 characters", async () => {
    const description = `<script>alert("x")</script>\u0000\n${'y'.repeat(300)}`
    await expectLoginFails({ status: 400, body: { error: 'invalid_request', error_description: description } }, 502, 'ERR_PAR_FAILED')
    const { message, errorDescription } = stack.errors.at(-1)!
    expect(message).not.toMatch(/[<>\u0000\n]|"x"/)
    expect(message).toContain('...')
    expect(message.length).toBeLessThan(600)
    expect(errorDescription).toBe(description)
  })

  test("a body that is not JSON is not quoted into the error message (no OP-sent markup in messages)", async () => {
    await expectLoginFails({ status: 201, body: '<script>alert(1)</script>', headers: { 'content-type': 'application/json' } }, 502, 'ERR_PAR_FAILED')
    expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]|script/)
  })

  test('a PAR endpoint that never answers is bounded by httpTimeout -> 504 ERR_OP_TIMEOUT', async () => {
    const started = performance.now()
    await expectLoginFails({ hang: true }, 504, 'ERR_OP_TIMEOUT')
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(HTTP_TIMEOUT - 50)
    expect(elapsed).toBeLessThan(HTTP_TIMEOUT + 3000)
  })

  test('a PAR endpoint that drops the connection -> 502 ERR_OP_UNREACHABLE, with no address in the message', async () => {
    await expectLoginFails({ reset: true }, 502, 'ERR_OP_UNREACHABLE')
    const { message, cause } = stack.errors.at(-1)!
    expect(message).toContain('(connection closed by the other side)')
    expect(message).not.toContain(new URL(stack.op.issuer).port)
    expect(cause).toBeDefined()
  })

  test('after a PAR failure the next login works (nothing bad is cached)', async () => {
    await expectLoginFails({ status: 500, body: 'down' }, 502, 'ERR_PAR_FAILED')
    stack.op.bend = {}
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })
})

describe('accepted PAR responses', () => {
  test('the browser is sent with nothing but client_id and request_uri (RFC 9126 §4)', async () => {
    const page = await stack.startLogin(stack.browser())
    const location = new URL(page.headers.get('location')!)
    expect([...location.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    expect(location.searchParams.get('request_uri')).toBe(stack.op.logins[0]!.requestUri)
  })

  test('extra members, a charset in the content type and a long expires_in', async () => {
    stack.op.bend.par = (valid) => ({ ...valid, body: { ...(valid.body as object), expires_in: 3600, extra: { a: 1 } }, headers: { 'content-type': 'application/json; charset=utf-8' } })
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })

  test('a request_uri that is an https URL rather than a urn (RFC 9126 §2.2 leaves its form to the OP)', async () => {
    stack.op.bend.par = (valid) => {
      const uri = `${stack.op.issuer}/requests/${Math.random().toString(36).slice(2)}`
      stack.op.logins.at(-1)!.requestUri = uri
      return { ...valid, body: { request_uri: uri, expires_in: 60 } }
    }
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })
})
