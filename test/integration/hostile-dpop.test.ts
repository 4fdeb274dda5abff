/**
 * DPoP against an OP that does not honour it: the downgrade check (RFC 9449 §5: a token request
 * with a proof must get `token_type: DPoP`; openid-client does not check this) refuses a Bearer
 * answer with ERR_DPOP_DOWNGRADE and stores nothing, at the callback and at a refresh (which ends
 * the login). The token type is compared case-insensitively (FAPI2SPFinalClientTestTokenTypeCaseInsenstivity).
 */

import { decodeJwt, decodeProtectedHeader } from 'jose'
import type { Answer } from '../support/hostile-op.js'
import { PATHS, startHostileStack, useHostileStack } from '../support/hostile-stack.js'
import { storedAuth } from '../support/session-store.js'

const stack = useHostileStack({ auth: { dpop: true } })

type Body = Record<string, unknown>
const tokenType = (value: string) => (valid: Answer) => ({ ...valid, body: { ...(valid.body as Body), token_type: value } })

test('the PAR and token requests carry DPoP proofs of the same key', async () => {
  const browser = stack.browser()
  await stack.expectLoggedIn(await stack.login(browser), browser)
  const [par, token] = [PATHS.par, PATHS.token].map((path) => stack.op.requests.find((r) => r.path === path)!.headers.dpop as string)
  expect(decodeJwt(par!)).toMatchObject({ htm: 'POST', htu: `${stack.op.issuer}${PATHS.par}` })
  expect(decodeJwt(token!)).toMatchObject({ htm: 'POST', htu: `${stack.op.issuer}${PATHS.token}` })
  expect(decodeProtectedHeader(par!)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' })
  expect(decodeProtectedHeader(par!).jwk).toEqual(decodeProtectedHeader(token!).jwk)
})

describe('downgrade: a token response that is not DPoP-bound is refused, nothing stored', () => {
  test.each(['Bearer', 'bearer', 'BEARER'])('token_type %s', async (type) => {
    stack.op.bend.token = tokenType(type)
    const browser = stack.browser()
    await stack.expectRejected(await stack.login(browser), browser, 502, 'ERR_DPOP_DOWNGRADE')
    expect(stack.op.count(PATHS.token)).toBe(1)
    expect(stack.errors.at(-1)!.message).toMatch(/token_type "(Bearer|bearer|BEARER)" instead of DPoP/)
  })

  test('at a refresh: the login is ended', async () => {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    stack.op.bend.token = (valid, request) => (request.body.get('grant_type') === 'refresh_token' ? tokenType('Bearer')(valid) : valid)
    const refreshed = await browser.request(`${stack.baseURL}/refresh`)
    expect({ status: refreshed.status, code: JSON.parse(refreshed.body).code }).toEqual({ status: 502, code: 'ERR_DPOP_DOWNGRADE' })
    expect(await stack.anyLoggedIn()).toBe(false)
  })
})

describe('accepted token types (RFC 6749 §5.1: case-insensitive)', () => {
  test.each(['DPoP', 'dpop', 'DPOP', 'dPoP'])('token_type %s', async (type) => {
    stack.op.bend.token = tokenType(type)
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    const login = (await stack.sessions()).map((s) => s.expressPar?.default?.login).find(Boolean)!
    expect(login.dpop).toMatchObject({ alg: 'ES256' })
    expect(storedAuth((await stack.sessions()).find((s) => storedAuth(s)))!.tokenType).toBe('dpop')
  })

  test('a refresh answered with DPoP-bound tokens keeps the login and its key', async () => {
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
    const refreshed = await browser.request(`${stack.baseURL}/refresh`)
    expect(JSON.parse(refreshed.body)).toEqual({ token_type: 'dpop' })
    const refresh = stack.op.requests.filter((r) => r.path === PATHS.token).at(-1)!
    expect(refresh.body.get('grant_type')).toBe('refresh_token')
    expect(decodeProtectedHeader(refresh.headers.dpop as string).jwk).toEqual(decodeProtectedHeader(stack.op.requests.find((r) => r.path === PATHS.par)!.headers.dpop as string).jwk)
  })
})

test.each([['EdDSA', 'OKP'], ['PS256', 'RSA']] as const)('dpop: { alg: %s } signs the proofs with a %s key', async (alg, kty) => {
  const app = await startHostileStack({ op: stack.op, auth: { dpop: { alg } } })
  try {
    const browser = app.browser()
    await app.expectLoggedIn(await app.login(browser), browser)
    const proof = stack.op.requests.find((r) => r.path === PATHS.par)!.headers.dpop as string
    expect(decodeProtectedHeader(proof)).toMatchObject({ alg, jwk: { kty } })
  } finally {
    await app.close()
  }
})

test('an OP that accepts no proof of the configured algorithm is a configuration error at discovery', async () => {
  stack.op.bend.discovery = (m) => ({ ...m, dpop_signing_alg_values_supported: ['RS256'] })
  const app = await startHostileStack({ op: stack.op, auth: { dpop: true } })
  try {
    const page = await app.startLogin(app.browser())
    expect({ status: page.status, code: JSON.parse(page.body).code }).toEqual({ status: 500, code: 'ERR_CONFIG_INVALID' })
    expect(app.errors.at(-1)!.message).toMatch(/`dpop` signs proofs with ES256, but the OP at .* accepts only RS256 \(dpop_signing_alg_values_supported\)/)
    expect(stack.op.count(PATHS.par)).toBe(0)
  } finally {
    await app.close()
  }
})
