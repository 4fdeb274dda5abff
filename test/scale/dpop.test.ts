/**
 * DPoP across instances: the login's key pair travels in the shared session (Redis), so a login
 * started on instance A, whose PAR request bound the code to A's fresh key, finishes on instance
 * B with the same key (the OP refuses a token request proved by another key: RFC 9449 §10).
 * The OP requires server nonces, which each instance learns on its own.
 */

import { randomBytes } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, type JWK } from 'jose'
import { startCluster, type Cluster } from './support/cluster.js'

let cluster: Cluster
const proofs: Array<{ path: string; status: number; jkt: string }> = []

beforeAll(async () => {
  cluster = await startCluster({
    auth: { dpop: true },
    client: { dpop_bound_access_tokens: true },
    opFeatures: { dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } },
    opMiddleware: [
      async (ctx, next) => {
        await next()
        const proof = ctx.get('dpop')
        if (proof) proofs.push({ path: ctx.path, status: ctx.status, jkt: await calculateJwkThumbprint(decodeProtectedHeader(proof).jwk as JWK) })
      },
    ],
  })
})
afterAll(() => cluster?.close())

test('a DPoP login started on instance A finishes on instance B with the key A made', async () => {
  const browser = cluster.browser()
  const callback = await cluster.authorize(browser, 'A')
  const done = await cluster.request(browser, 'B', callback)
  expect(done.status).toBe(302)
  expect(cluster.served.filter(({ path }) => path === '/login' || path === '/callback').slice(-2)).toEqual([
    { instance: 'A', path: '/login' },
    { instance: 'B', path: '/callback' },
  ])
  const accepted = proofs.filter((p) => p.status < 300)
  expect(accepted.map((p) => p.path)).toEqual(['/request', '/token'])
  expect(accepted[1]!.jkt).toBe(accepted[0]!.jkt)
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBe('alice')
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBe('alice')
})
