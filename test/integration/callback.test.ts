import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { authorizeAtOP } from '../support/browser.js'
import { editStoredSession, sessionCount, storedAuth, storedPending, storedSession } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

function withParam(url: string, name: string, value: string | null): string {
  const u = new URL(url)
  if (value === null) u.searchParams.delete(name)
  else u.searchParams.set(name, value)
  return u.href
}

describe.each(EXPRESS_VERSIONS)('callback checks (%s)', (_name, express) => {
  let stack: Stack
  const tokenCalls = () => stack.opRequests.filter((path) => path === '/token').length
  const lastError = () => stack.errors.at(-1)!

  beforeAll(async () => {
    stack = await startStack({ express })
  })
  afterAll(() => stack.close())
  beforeEach(() => {
    stack.opRequests.length = 0
    stack.errors.length = 0
  })

  async function expectRejected(browser: ReturnType<Stack['browser']>, url: string, status: number, code: string) {
    const answer = await browser.request(url)
    expect(answer.status).toBe(status)
    expect(JSON.parse(answer.body).code).toBe(code)
    expect(lastError().code).toBe(code)
    expect(lastError().status).toBe(status)
    expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
    return answer
  }

  test('a replayed callback is refused and never reaches the token endpoint again', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    expect((await browser.request(callbackUrl)).status).toBe(302)
    expect(tokenCalls()).toBe(1)
    const replay = await browser.request(callbackUrl)
    expect(replay.status).toBe(400)
    expect(JSON.parse(replay.body).code).toBe('ERR_LOGIN_NOT_PENDING')
    expect(tokenCalls()).toBe(1)
  })

  test('a callback whose first use failed cannot be retried', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    editStoredSession(stack.store, browser, stack.baseURL, (s) => {
      for (const login of Object.values(storedPending(s)!)) login.v = 'x'.repeat(43)
    })
    await expectRejected(browser, callbackUrl, 400, 'ERR_CODE_REJECTED')
    await expectRejected(browser, callbackUrl, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(tokenCalls()).toBe(1)
  })

  test('a forged state is refused without a token request, and the real login still completes', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    await expectRejected(browser, withParam(callbackUrl, 'state', 'forged-state-forged-state-forged-state-1234'), 400, 'ERR_LOGIN_NOT_PENDING')
    expect(tokenCalls()).toBe(0)
    expect((await browser.request(callbackUrl)).status).toBe(302)
  })

  test.each([
    ['missing', (url: string) => withParam(url, 'state', null)],
    ['duplicated', (url: string) => `${url}&state=${new URL(url).searchParams.get('state')}`],
  ])('a %s state is malformed input', async (_case, mangle) => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    await expectRejected(browser, mangle(callbackUrl), 400, 'ERR_CALLBACK_INVALID')
    expect(tokenCalls()).toBe(0)
  })

  test('a missing code is malformed input', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    await expectRejected(browser, withParam(callbackUrl, 'code', null), 400, 'ERR_CALLBACK_INVALID')
    expect(tokenCalls()).toBe(0)
  })

  test('a callback opened in a browser that never started the login (login CSRF) is refused and creates no session', async () => {
    const attacker = stack.browser()
    const callbackUrl = await stack.authorize(attacker)
    const victim = stack.browser()
    const sessionsBefore = sessionCount(stack.store)
    await expectRejected(victim, callbackUrl, 400, 'ERR_LOGIN_NOT_PENDING')
    expect(tokenCalls()).toBe(0)
    expect(sessionCount(stack.store)).toBe(sessionsBefore)
  })

  test.each([
    ['names another issuer', (url: string) => withParam(url, 'iss', 'https://evil.example')],
    ['is missing though the OP advertises it', (url: string) => withParam(url, 'iss', null)],
  ])('an iss that %s is refused before the token request (RFC 9207)', async (_case, mangle) => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(stack.issuer)
    await expectRejected(browser, mangle(callbackUrl), 400, 'ERR_ISSUER_MISMATCH')
    expect(tokenCalls()).toBe(0)
  })

  test('an OP error (the user cancelled) is a 400 with the OP error kept on the error, not rendered', async () => {
    const browser = stack.browser()
    const start = await browser.request(`${stack.baseURL}/login`)
    const callbackUrl = await authorizeAtOP(browser, start.headers.get('location')!, stack.callbackPrefix, { abort: true })
    expect(new URL(callbackUrl).searchParams.get('error')).toBe('access_denied')
    const answer = await expectRejected(browser, callbackUrl, 400, 'ERR_LOGIN_REFUSED')
    expect(lastError()).toMatchObject({ error: 'access_denied', errorDescription: 'End-User aborted interaction' })
    expect(lastError().message).not.toContain('End-User aborted interaction')
    expect(answer.headers.get('content-type')).toMatch(/json/)
    expect(tokenCalls()).toBe(0)
  })

  test('an attacker-chosen error description never reaches the message', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    const forged = new URL(callbackUrl)
    forged.searchParams.delete('code')
    forged.searchParams.set('error', '<script>alert(1)</script>')
    forged.searchParams.set('error_description', '<img src=x onerror=alert(1)>')
    await expectRejected(browser, forged.href, 400, 'ERR_LOGIN_REFUSED')
    expect(lastError().message).not.toMatch(/[<>]/)
  })

  test('an ID token whose nonce does not match the pending login is refused', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    editStoredSession(stack.store, browser, stack.baseURL, (s) => {
      for (const login of Object.values(storedPending(s)!)) login.n = 'another-nonce'
    })
    await expectRejected(browser, callbackUrl, 502, 'ERR_ID_TOKEN_INVALID')
  })

  test('the PKCE verifier is sent: a wrong one makes the OP refuse the code', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    editStoredSession(stack.store, browser, stack.baseURL, (s) => {
      for (const login of Object.values(storedPending(s)!)) login.v = 'wrong-verifier-wrong-verifier-wrong-verifier'
    })
    await expectRejected(browser, callbackUrl, 400, 'ERR_CODE_REJECTED')
    expect(lastError().error).toBe('invalid_grant')
  })

  test('an expired pending login is refused without a token request', async () => {
    const browser = stack.browser()
    const callbackUrl = await stack.authorize(browser)
    editStoredSession(stack.store, browser, stack.baseURL, (s) => {
      for (const login of Object.values(storedPending(s)!)) login.e = Date.now() - 1
    })
    await expectRejected(browser, callbackUrl, 400, 'ERR_LOGIN_EXPIRED')
    expect(tokenCalls()).toBe(0)
  })
})

describe('afterCallback', () => {
  test('can trim what is stored', async () => {
    const stack = await startStack({ auth: { afterCallback: (_req, _res, auth) => ({ ...auth, refreshToken: undefined, claims: { sub: auth.claims.sub } }) } })
    try {
      const browser = stack.browser()
      expect((await stack.login(browser)).status).toBe(302)
      expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))!.claims).toEqual({ sub: 'alice' })
    } finally {
      await stack.close()
    }
  })

  test('runs in the new session: what it writes to req.session is kept', async () => {
    const stack = await startStack({
      auth: {
        afterCallback: (req, _res, auth) => {
          req.session.cookie.maxAge = 60_000
          ;(req.session as unknown as { greeting: string }).greeting = 'hello'
          return auth
        },
      },
    })
    try {
      const browser = stack.browser()
      expect((await stack.login(browser)).status).toBe(302)
      expect(storedSession(stack.store, browser, stack.baseURL)).toMatchObject({ greeting: 'hello', expressPar: { default: { login: { auth: { claims: { sub: 'alice' } } } } } })
    } finally {
      await stack.close()
    }
  })

  test('forgetting to return the record is an error, not a user-less login', async () => {
    const stack = await startStack({ auth: { afterCallback: (() => undefined) as never } })
    try {
      const browser = stack.browser()
      const answer = await stack.login(browser)
      expect(answer.status).toBe(500)
      expect(JSON.parse(answer.body).code).toBe('ERR_AFTER_CALLBACK_INVALID')
      expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
    } finally {
      await stack.close()
    }
  })

  test('a returned record without an idToken string or a claims object is an error too', async () => {
    let record: unknown
    const stack = await startStack({ auth: { afterCallback: (() => record) as never } })
    try {
      for (const bad of [{ idToken: 'x' }, { idToken: 'x', claims: null }, { idToken: 'x', claims: 'sub=alice' }, { claims: { sub: 'alice' } }, 'alice']) {
        record = bad
        const browser = stack.browser()
        const answer = await stack.login(browser)
        expect(JSON.parse(answer.body).code).toBe('ERR_AFTER_CALLBACK_INVALID')
        expect(storedAuth(storedSession(stack.store, browser, stack.baseURL))).toBeUndefined()
      }
    } finally {
      await stack.close()
    }
  })

  test('a throw ends the login with that error and no session', async () => {
    const refusal = Object.assign(new Error('not on the guest list'), { status: 403 })
    const stack = await startStack({ auth: { afterCallback: () => Promise.reject(refusal) } })
    try {
      const browser = stack.browser()
      const answer = await stack.login(browser)
      expect(answer.status).toBe(403)
      expect(stack.errors).toEqual([refusal])
      expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(false)
    } finally {
      await stack.close()
    }
  })
})
