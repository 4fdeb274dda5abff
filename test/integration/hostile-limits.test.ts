/**
 * What the app reads from an OP is bounded in time and size (lib/op/http.ts): `httpTimeout` covers
 * the whole answer, body included, so an OP that starts answering in time but trickles its body is
 * a timeout (504), not a malformed answer; and no body over 1 MB is read, so an OP (or whatever
 * answers in its place) cannot fill the session store with a 70 MB token or a 4 MB claim. Each
 * refusal names the size and carries the step's code. Every OP request goes through the same
 * fetch: discovery, PAR, token, JWKS.
 */

import type { Answer, Bends } from '../support/hostile-op.js'
import { startHostileStack, useHostileStack } from '../support/hostile-stack.js'

const HTTP_TIMEOUT = 600
const stack = useHostileStack({ auth: { httpTimeout: HTTP_TIMEOUT } })

type Step = 'discovery' | 'par' | 'token' | 'jwks'
const STEP_CODE: Record<Step, string> = {
  discovery: 'ERR_DISCOVERY_FAILED',
  par: 'ERR_PAR_FAILED',
  token: 'ERR_TOKEN_RESPONSE_INVALID',
  jwks: 'ERR_ID_TOKEN_INVALID',
}

/** Bends the answer of `step` with `change` (applied to the valid answer). */
function bendStep(step: Step, change: (valid: Answer) => Answer): Bends {
  switch (step) {
    case 'discovery':
      return { discovery: (m) => change({ body: m }) }
    case 'jwks':
      return { jwks: (jwks) => change({ body: jwks }) }
    case 'par':
      return { par: (valid) => change(valid) }
    case 'token':
      return { token: (valid) => change(valid) }
  }
}

/** A fresh app for each case: discovery and the JWKS are cached per auth() instance. */
async function attempt(bends: Bends, httpTimeout = HTTP_TIMEOUT): Promise<{ status: number; code: string; message: string }> {
  const app = await startHostileStack({ op: stack.op, auth: { httpTimeout } })
  try {
    stack.op.bend = bends
    const browser = app.browser()
    const start = await app.startLogin(browser)
    const atOP = start.status === 302 ? await browser.request(start.headers.get('location')!) : undefined
    const page = atOP ? await browser.request(atOP.headers.get('location')!) : start
    expect(page.headers.get('location')).toBeNull()
    expect(await app.anyLoggedIn()).toBe(false)
    const { code, message } = JSON.parse(page.body) as { code: string; message: string }
    return { status: page.status, code, message }
  } finally {
    await app.close()
  }
}

const steps: Step[] = ['discovery', 'par', 'token', 'jwks']

describe('a body that outlasts httpTimeout is a timeout, whatever the step', () => {
  test.each(steps)('%s: headers in time, the body later -> 504 ERR_OP_TIMEOUT', async (step) => {
    const started = performance.now()
    const result = await attempt(bendStep(step, (valid) => ({ ...valid, slowBody: HTTP_TIMEOUT * 4 })))
    expect(result).toMatchObject({ status: 504, code: 'ERR_OP_TIMEOUT' })
    expect(result.message).toContain(`httpTimeout (${HTTP_TIMEOUT} ms)`)
    expect(performance.now() - started).toBeLessThan(HTTP_TIMEOUT * 4)
  })
})

describe('an OP response body over 1 MB is refused with the step\'s code and its size', () => {
  const big = 'x'.repeat(1024 * 1024 + 1)
  /** The valid answer with a 1 MB member added (a claim, for the token step: inside the ID token). */
  const swollen = (step: Step) => (valid: Answer): Answer => {
    if (step === 'token') return valid
    return { ...valid, body: { ...(valid.body as object), padding: big } }
  }

  test.each(steps)('%s, with a Content-Length', async (step) => {
    const bends = step === 'token' ? { idToken: (c: Parameters<NonNullable<Bends['idToken']>>[0]) => c.sign({ ...c.claims, padding: big }) } : bendStep(step, swollen(step))
    const result = await attempt(bends)
    expect(result).toMatchObject({ status: 502, code: STEP_CODE[step] })
    expect(result.message).toMatch(/is \d{7,} bytes \(its Content-Length\), above the 1 MB \(1048576-byte\) limit/)
  })

  test.each(steps)('%s, streamed without a Content-Length: reading stops at the limit', async (step) => {
    const result = await attempt(bendStep(step, (valid) => ({ ...swollen(step)(valid), ...(step === 'token' && { body: { ...(valid.body as object), padding: big } }), chunked: true })))
    expect(result).toMatchObject({ status: 502, code: STEP_CODE[step] })
    expect(result.message).toMatch(/is over 1048576 bytes \(reading stopped at \d+\), above the 1 MB/)
  })

  test('70 MB of tokens never reach the session: refused while streaming, long before the end', async () => {
    const huge = 'a'.repeat(70 * 1024 * 1024)
    // (a generous httpTimeout: serialising 70 MB takes the OP a while on a busy machine)
    const result = await attempt({ token: (valid) => ({ ...valid, body: { ...(valid.body as object), access_token: huge }, chunked: true }) }, 10_000)
    expect(result).toMatchObject({ status: 502, code: 'ERR_TOKEN_RESPONSE_INVALID' })
    expect((await stack.sessions()).every((s) => JSON.stringify(s).length < 2048)).toBe(true)
  })

  test('a large but honest answer is accepted: 200 claims of 100 bytes in the ID token', async () => {
    const claims = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`claim_${i}`, 'v'.repeat(100)]))
    stack.op.bend.idToken = (c) => c.sign({ ...c.claims, ...claims })
    const browser = stack.browser()
    await stack.expectLoggedIn(await stack.login(browser), browser)
  })
})
