/**
 * The one-time rules across two instances sharing a real redis-server (sessions in connect-redis,
 * coordination through redisCoordination): two identical callbacks at the same moment reach the
 * token endpoint once; concurrent requests needing a refresh cause one refresh grant; the rotated
 * refresh token is never sent twice; Redis down during a refresh is a clear error, not a crash.
 */

import { jest } from '@jest/globals'
import { createClient } from 'redis'
import { errorCode, startCluster, type Cluster, type InstanceName } from './support/cluster.js'
import type { TestBrowser } from '../support/browser.js'

let cluster: Cluster

beforeAll(async () => {
  cluster = await startCluster()
})
afterAll(() => cluster?.close())
beforeEach(() => {
  cluster.tokenRequests.length = 0
})

const codeGrants = () => cluster.tokenRequests.filter((g) => g === 'authorization_code').length
const refreshGrants = () => cluster.tokenRequests.filter((g) => g === 'refresh_token').length

async function loggedIn(on: InstanceName = 'A'): Promise<TestBrowser> {
  const browser = cluster.browser()
  expect((await cluster.request(browser, on, await cluster.authorize(browser, on))).status).toBe(302)
  return browser
}

function expireAccessToken(browser: TestBrowser): Promise<void> {
  return cluster.editSession(browser, (s) => {
    s.expressPar.default.login.auth.expiresAt = Math.floor(Date.now() / 1000) - 60
  })
}

test('two identical callbacks at the same moment on two instances: one token request, one login (20 rounds)', async () => {
  for (let round = 0; round < 20; round++) {
    const browser = cluster.browser()
    const callback = await cluster.authorize(browser, 'A')
    const before = codeGrants()
    const [onA, onB] = await Promise.all([cluster.request(browser, 'A', callback), cluster.request(browser, 'B', callback)])
    expect(codeGrants() - before).toBe(1)
    const statuses = [onA.status, onB.status].sort()
    expect(statuses).toEqual([302, 400])
    const refused = onA.status === 400 ? onA : onB
    expect(errorCode(refused)).toBe('ERR_LOGIN_NOT_PENDING')
  }
})

test('20 concurrent requests across two instances after the access token expired: one refresh grant, all succeed', async () => {
  const browser = await loggedIn()
  await expireAccessToken(browser)
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      cluster.request(browser, i % 2 === 0 ? 'A' : 'B', '/api/resource').then((page) => ({ status: page.status, sub: page.status === 200 ? JSON.parse(page.body).sub : errorCode(page) })),
    ),
  )
  expect(answers).toEqual(Array(20).fill({ status: 200, sub: 'alice' }))
  expect(refreshGrants()).toBe(1)
  // The grant survived (a refresh token sent twice would have revoked it): refreshing again works.
  await expireAccessToken(browser)
  expect((await cluster.request(browser, 'B', '/api/resource')).status).toBe(200)
  expect(refreshGrants()).toBe(2)
})

test('the pending login of a cookieless /login lives minutes in Redis, not a day', async () => {
  const browser = cluster.browser()
  expect((await cluster.request(browser, 'A', '/login')).status).toBe(302)
  const signed = decodeURIComponent(browser.cookie(cluster.url, 'connect.sid')!)
  const client = await createClient({ url: cluster.redis.url }).connect()
  try {
    const ttl = await client.ttl(`scale:sess:${signed.slice(2, signed.lastIndexOf('.'))}`)
    expect(ttl).toBeGreaterThan(10 * 60)
    expect(ttl).toBeLessThanOrEqual(12 * 60)
  } finally {
    await client.quit()
  }
})

test('Redis stopped while a refresh is at the OP: a clear error and no crash; after the restart, logins and refreshes work', async () => {
  const browser = await loggedIn()
  await expireAccessToken(browser)
  let arrived!: () => void
  let release!: () => void
  const atOP = new Promise<void>((resolve) => (arrived = resolve))
  cluster.tokenGate = { arrived, release: new Promise<void>((resolve) => (release = resolve)) }
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {})
  let page
  try {
    const during = cluster.request(browser, 'A', '/api/resource')
    await atOP // the refresh grant is at the OP; the lock is taken in Redis
    await cluster.redis.stop()
    await cluster.redisLost()
    release()
    page = await during
  } finally {
    cluster.tokenGate = undefined
    release()
    logged.mockRestore()
    await cluster.redis.start()
    await cluster.redisReady()
  }
  // The refresh itself succeeded at the OP; publishing it (coordination) or storing it (session) failed.
  expect(page.status).toBe(500)
  expect(['ERR_COORDINATION_FAILED', 'ERR_SESSION_STORE']).toContain(errorCode(page))
  expect(refreshGrants()).toBe(1)
  // Redis came back empty (no persistence): the user logs in again, and refreshes work.
  const again = await loggedIn('B')
  await expireAccessToken(again)
  expect((await cluster.request(again, 'A', '/api/resource')).status).toBe(200)
})

test('a login past its absolute lifetime ends on the next request, on either instance, and leaves Redis', async () => {
  const browser = await loggedIn('A')
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBe('alice')
  await cluster.editSession(browser, (s) => {
    s.expressPar.default.login.at -= 7 * 86400 // logged in a week ago (the default absoluteDuration)
  })
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBeNull()
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBeNull()
  let stored: { expressPar?: unknown } | undefined
  await cluster.editSession(browser, (s) => {
    stored = s
  })
  expect(stored?.expressPar).toBeUndefined()
})

test('a login left idle past its rolling lifetime ends; one in use does not', async () => {
  const browser = await loggedIn('B')
  await cluster.editSession(browser, (s) => {
    s.expressPar.default.login.seen -= 86400 - 120 // idle for almost a day
  })
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBe('alice') // this request renews it
  await cluster.editSession(browser, (s) => {
    s.expressPar.default.login.seen -= 86400 // now idle for a day
  })
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBeNull()
})
