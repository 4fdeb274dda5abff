/**
 * Outages with a real OP (oidc-provider): down at start-up, a black hole, back up, down in the
 * middle of a login, back again. The app (the example app, as a newcomer runs it) is never
 * restarted; failures are 502/504 with stable codes, recovery is automatic, and no unhandled
 * rejection escapes (Jest fails any test during which one goes unhandled).
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryStore } from 'express-session'
import { exportJWK, generateKeyPair } from 'jose'
import { createApp } from '../../example-app/app.js'
import { startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP, type Page } from '../support/browser.js'

const CLIENT_ID = 'outage-client'
const CLIENT_SECRET = 'outage-client-secret-0123456789'

async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return (server.address() as AddressInfo).port
}

const close = (server: http.Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })

const realNow = Date.now
/** Moves the clock past the hold that repeated discovery failures put on the next attempt (lib/op/retry-gate.ts). */
function pastDiscoveryHold(): void {
  const offset = Date.now() - realNow() + 3000
  Date.now = () => realNow() + offset
}

/** The app's error code from the example app's error page. */
const errorCode = (page: Page) => /id="error-code">([A-Z_]+)</.exec(page.body)?.[1]

test('OP down at start-up, then a black hole, then back: 502, 504, then logins succeed without restarting the app', async () => {
  // A port for the OP that nothing listens on yet.
  const probe = http.createServer()
  const opPort = await listen(probe)
  await close(probe)
  const issuer = `http://127.0.0.1:${opPort}`

  const appServer = http.createServer()
  const appPort = await listen(appServer)
  const baseURL = `http://127.0.0.1:${appPort}`
  const store = new MemoryStore()
  appServer.on(
    'request',
    createApp({
      auth: { issuerBaseURL: issuer, baseURL, clientID: CLIENT_ID, clientSecret: CLIENT_SECRET, allowInsecureRequests: true, httpTimeout: 600 },
      sessionStore: store,
      log: () => {}, // the failures below are expected
    }),
  )
  // One signing key for every OP start: a restarted OP keeps its keys, as a real one does.
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const jwks = { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'outage-1' }] }
  const startOP = () =>
    startLocalOP({
      port: opPort,
      clients: [{ client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uris: [`${baseURL}/callback`] }],
      configuration: { jwks },
    })
  const login = async (browser: TestBrowser) => {
    const start = await browser.request(`${baseURL}/login`)
    if (start.status !== 302) return start
    return browser.request(await authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`))
  }
  const loggedIn = async (browser: TestBrowser) => (await browser.request(`${baseURL}/`)).body.includes('Logged in as')

  let op: Awaited<ReturnType<typeof startOP>> | undefined
  let blackHole: http.Server | undefined
  try {
    // 1. Nothing listens: connection refused.
    for (let i = 0; i < 3; i++) {
      const page = await new TestBrowser().request(`${baseURL}/login`)
      expect({ status: page.status, code: errorCode(page) }).toEqual({ status: 502, code: 'ERR_DISCOVERY_FAILED' })
    }

    // 2. Something accepts connections but never answers: bounded by httpTimeout.
    pastDiscoveryHold()
    blackHole = http.createServer(() => {})
    await listen(blackHole, opPort)
    const hung = await new TestBrowser().request(`${baseURL}/login`)
    expect({ status: hung.status, code: errorCode(hung) }).toEqual({ status: 504, code: 'ERR_OP_TIMEOUT' })
    await close(blackHole)
    blackHole = undefined

    // 3. The OP is up: logins succeed, same app (at most 2 s after it is back).
    op = await startOP()
    pastDiscoveryHold()
    const alice = new TestBrowser()
    expect((await login(alice)).status).toBe(302)
    expect(await loggedIn(alice)).toBe(true)

    // 4. The OP goes down between PAR and the callback: the code cannot be redeemed.
    const bob = new TestBrowser()
    const start = await bob.request(`${baseURL}/login`)
    const callback = await authorizeAtOP(bob, start.headers.get('location')!, `${baseURL}/callback`)
    await op.close()
    op = undefined
    const failed = await bob.request(callback)
    expect({ status: failed.status, code: errorCode(failed) }).toEqual({ status: 502, code: 'ERR_OP_UNREACHABLE' })
    expect(await loggedIn(bob)).toBe(false)
    expect(await loggedIn(alice)).toBe(true) // an existing session does not depend on the OP

    // 5. The OP is back: new logins succeed again.
    op = await startOP()
    const carol = new TestBrowser()
    expect((await login(carol)).status).toBe(302)
    expect(await loggedIn(carol)).toBe(true)
  } finally {
    Date.now = realNow
    if (blackHole) await close(blackHole)
    if (op) await op.close()
    await close(appServer)
  }
})
