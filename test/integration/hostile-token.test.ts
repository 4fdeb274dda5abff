/**
 * A token endpoint that fails, lies or never answers (RFC 6749 §5.1-5.2, §7.1; FAPI 2.0 client
 * tests FAPI2SPFinalClientTestTokenTypeCaseInsenstivity / TokenEndpointResponseWithoutExpiresIn).
 * The callback must answer 4xx/502/504 with a stable code and log nobody in.
 */

import type { Answer } from '../support/hostile-op.js'
import { PATHS, useHostileStack } from '../support/hostile-stack.js'

const HTTP_TIMEOUT = 700
const stack = useHostileStack({ auth: { httpTimeout: HTTP_TIMEOUT } })

type Body = Record<string, unknown>
/** Bends the valid token response body. */
const body = (change: (valid: Body) => unknown) => (valid: Answer) => ({ ...valid, body: change({ ...(valid.body as Body) }) })

async function expectCallbackFails(bend: (valid: Answer) => Answer, status: number, code: string): Promise<void> {
  stack.op.bend.token = bend
  const browser = stack.browser()
  await stack.expectRejected(await stack.login(browser), browser, status, code)
  expect(stack.op.count(PATHS.token)).toBe(1)
}

describe('refused token responses', () => {
  const cases: Array<[string, (valid: Answer) => Answer, number, string]> = [
    ['400 invalid_grant: forged, replayed or expired code (RFC 6749 §5.2)', () => ({ status: 400, body: { error: 'invalid_grant' } }), 400, 'ERR_CODE_REJECTED'],
    ['400 invalid_request', () => ({ status: 400, body: { error: 'invalid_request' } }), 502, 'ERR_TOKEN_REQUEST_FAILED'],
    ['400 unauthorized_client', () => ({ status: 400, body: { error: 'unauthorized_client' } }), 502, 'ERR_TOKEN_REQUEST_FAILED'],
    ['401 invalid_client', () => ({ status: 401, body: { error: 'invalid_client' } }), 502, 'ERR_TOKEN_REQUEST_FAILED'],
    [
      '401 invalid_client with a WWW-Authenticate challenge (RFC 6749 §5.2)',
      () => ({ status: 401, body: { error: 'invalid_client' }, headers: { 'www-authenticate': 'Basic realm="op"' } }),
      502,
      'ERR_TOKEN_REQUEST_FAILED',
    ],
    ['500 with an HTML page', () => ({ status: 500, body: '<html>oops</html>' }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['503 with an empty body', () => ({ status: 503, body: '' }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['302 redirect away', () => ({ status: 302, headers: { location: 'https://attacker.example/' }, body: '' }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['200 with a body that is not JSON', () => ({ status: 200, body: 'access_token=x&token_type=bearer' }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['200 with a JSON array', () => ({ status: 200, body: [] }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['200 with an OAuth error body', () => ({ status: 200, body: { error: 'invalid_grant' } }), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['no access_token (RFC 6749 §5.1)', body(({ access_token: _, ...b }) => b), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['access_token that is not a string', body((b) => ({ ...b, access_token: 12345 })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['no token_type (RFC 6749 §5.1)', body(({ token_type: _, ...b }) => b), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['token_type the client does not understand: mac (RFC 6749 §7.1)', body((b) => ({ ...b, token_type: 'mac' })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['token_type that is not a string', body((b) => ({ ...b, token_type: ['Bearer'] })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['a negative expires_in', body((b) => ({ ...b, expires_in: -1 })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['expires_in that is not a number', body((b) => ({ ...b, expires_in: 'one hour' })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['refresh_token that is not a string', body((b) => ({ ...b, refresh_token: { value: 'x' } })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['scope that is not a string', body((b) => ({ ...b, scope: ['openid'] })), 502, 'ERR_TOKEN_RESPONSE_INVALID'],
    ['no id_token (OpenID Connect Core §3.1.3.3)', body(({ id_token: _, ...b }) => b), 502, 'ERR_ID_TOKEN_INVALID'],
    ['id_token that is not a string', body((b) => ({ ...b, id_token: { alg: 'none' } })), 502, 'ERR_ID_TOKEN_INVALID'],
    ['a token endpoint that drops the connection', () => ({ reset: true }), 502, 'ERR_OP_UNREACHABLE'],
  ]
  test.each(cases)('%s', async (_name, bend, status, code) => {
    await expectCallbackFails(bend, status, code)
  })

  test("a body that is not JSON is not quoted into the error message (no OP-sent markup in messages)", async () => {
    await expectCallbackFails(() => ({ status: 200, body: '<script>alert(1)</script>', headers: { 'content-type': 'application/json' } }), 502, 'ERR_TOKEN_RESPONSE_INVALID')
    expect(stack.errors.at(-1)!.message).not.toMatch(/[<>]|script/)
  })

  test('an error code that is not OAuth-shaped is kept on the error but never put in the message', async () => {
    const html = '<script>alert(1)</script>'
    await expectCallbackFails(() => ({ status: 400, body: { error: html, error_description: html } }), 502, 'ERR_TOKEN_REQUEST_FAILED')
    const err = stack.errors.at(-1)!
    expect(err.message).not.toMatch(/[<>]|script/)
    expect(err).toMatchObject({ error: html, errorDescription: html })
  })

  test('a token endpoint that never answers is bounded by httpTimeout -> 504 ERR_OP_TIMEOUT', async () => {
    const started = performance.now()
    await expectCallbackFails(() => ({ hang: true }), 504, 'ERR_OP_TIMEOUT')
    const elapsed = performance.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(HTTP_TIMEOUT - 50)
    expect(elapsed).toBeLessThan(HTTP_TIMEOUT + 3000)
  })

  test('the token request authenticates the client and sends the PKCE verifier (RFC 7636 §4.5)', async () => {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    const request = stack.op.requests.find((r) => r.path === PATHS.token)!
    expect(request.headers.authorization).toMatch(/^Basic /)
    expect(request.body.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43,128}$/)
    expect(request.body.get('grant_type')).toBe('authorization_code')
  })
})

describe('accepted token responses (valid variations)', () => {
  const cases: Array<[string, (valid: Answer) => Answer]> = [
    ['token_type "Bearer"', body((b) => ({ ...b, token_type: 'Bearer' }))],
    ['token_type "bearer" (FAPI2SPFinalClientTestTokenTypeCaseInsenstivity; RFC 6749 §5.1 case-insensitive)', body((b) => ({ ...b, token_type: 'bearer' }))],
    ['token_type "BEARER"', body((b) => ({ ...b, token_type: 'BEARER' }))],
    ['no expires_in (FAPI2SPFinalClientTestTokenEndpointResponseWithoutExpiresIn)', body(({ expires_in: _, ...b }) => b)],
    ['expires_in as a numeric string', body((b) => ({ ...b, expires_in: '300' }))],
    ['no scope and no refresh_token', body(({ scope: _s, refresh_token: _r, ...b }) => b)],
    ['a refresh_token and unknown extra members', body((b) => ({ ...b, refresh_token: 'rt-1', not_before_policy: 0, 'x-extra': { a: 1 } }))],
    ['a charset in the content type', (valid) => ({ ...valid, headers: { 'content-type': 'application/json; charset=utf-8' } })],
  ]
  test.each(cases)('%s', async (_name, bend) => {
    stack.op.bend.token = bend
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })

  test('the access token, its type and expiry are exposed as sent', async () => {
    stack.op.bend.token = body((b) => ({ ...b, token_type: 'BEARER', expires_in: 120 }))
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    const me = JSON.parse((await browser.request(`${stack.baseURL}/`)).body) as { token: { token_type: string; expires_in: number } }
    expect(me.token.token_type).toBe('bearer')
    expect(me.token.expires_in).toBeGreaterThan(100)
    expect(me.token.expires_in).toBeLessThanOrEqual(120)
  })
})
