/**
 * Two instances of the example app behind one load balancer, sharing sessions through a real
 * redis-server (connect-redis): nothing express-par needs for correctness lives in process memory.
 */

import { jest } from '@jest/globals'
import { SAME_ORIGIN, endSessionAtOP } from '../support/browser.js'
import { errorCode, startCluster, type Cluster } from './support/cluster.js'

// An unhandled rejection anywhere in the process fails the running test (jest reports it), so
// "no crash, no unhandled rejection" needs no extra listener here.
let cluster: Cluster

beforeAll(async () => {
  cluster = await startCluster()
})
afterAll(() => cluster?.close())

test('a login started on instance A finishes on instance B, and both see the user', async () => {
  const browser = cluster.browser()
  const callback = await cluster.authorize(browser, 'A')
  const done = await cluster.request(browser, 'B', callback)
  expect(done.status).toBe(302)
  expect(done.headers.get('location')).toBe('/')
  expect(cluster.served.filter(({ path }) => path === '/login' || path === '/callback').slice(-2)).toEqual([
    { instance: 'A', path: '/login' },
    { instance: 'B', path: '/callback' },
  ])
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBe('alice')
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBe('alice')
})

test('a logout on instance B ends the session on instance A', async () => {
  const browser = cluster.browser()
  expect((await cluster.request(browser, 'A', await cluster.authorize(browser, 'A'))).status).toBe(302)
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBe('alice')

  const oldCookie = browser.cookie(cluster.url, 'connect.sid')!
  const out = await cluster.request(browser, 'B', '/logout', { method: 'POST', headers: SAME_ORIGIN })
  expect(out.status).toBe(302)
  expect(browser.cookie(cluster.url, 'connect.sid')).toBeUndefined() // the answer cleared it
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBeNull()
  // A browser that kept sending the old cookie anyway: the session behind it is gone from Redis.
  const stubborn = cluster.browser()
  stubborn.jar.set(new URL(cluster.url).hostname, new Map([['connect.sid', oldCookie]]))
  expect(await cluster.whoIsLoggedIn(stubborn, 'A')).toBeNull()
  expect(await cluster.whoIsLoggedIn(stubborn, 'B')).toBeNull()
})

test('the OP ends the session: a login made on A, its logout token delivered to B, is logged out on both', async () => {
  const browser = cluster.browser()
  const other = cluster.browser()
  expect((await cluster.request(browser, 'A', await cluster.authorize(browser, 'A'))).status).toBe(302)
  expect((await cluster.request(other, 'B', await cluster.authorize(other, 'B'))).status).toBe(302)
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBe('alice')

  cluster.backchannelTo = 'B'
  const before = cluster.served.length
  await endSessionAtOP(browser, `${cluster.issuer}/session/end`)
  expect(cluster.served.slice(before)).toEqual([{ instance: 'B', path: '/backchannel-logout' }])
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBeNull()
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBeNull()
  // Another OP session of the same user (another browser) is not this sid: it stays.
  expect(await cluster.whoIsLoggedIn(other, 'A')).toBe('alice')
})

test('a logout token accepted by B is refused by A as a replay (the jti cache is in Redis)', async () => {
  const browser = cluster.browser()
  expect((await cluster.request(browser, 'B', await cluster.authorize(browser, 'A'))).status).toBe(302)
  cluster.backchannelTo = 'B'
  await endSessionAtOP(browser, `${cluster.issuer}/session/end`)
  const replay = await cluster.request(cluster.browser(), 'A', '/backchannel-logout', { method: 'POST', form: { logout_token: cluster.logoutTokens.at(-1)! } })
  expect(replay.status).toBe(400)
  expect(JSON.parse(replay.body)).toMatchObject({ error: 'invalid_request', error_description: expect.stringMatching(/accepted before/) })
})

test('two concurrent logins, split across the instances the other way round, both succeed', async () => {
  const alice = cluster.browser()
  const bob = cluster.browser()
  const [aliceDone, bobDone] = await Promise.all([
    cluster.authorize(alice, 'A', 'alice').then((callback) => cluster.request(alice, 'B', callback)),
    cluster.authorize(bob, 'B', 'bob').then((callback) => cluster.request(bob, 'A', callback)),
  ])
  expect([aliceDone.status, bobDone.status]).toEqual([302, 302])
  expect(await cluster.whoIsLoggedIn(alice, 'A')).toBe('alice')
  expect(await cluster.whoIsLoggedIn(alice, 'B')).toBe('alice')
  expect(await cluster.whoIsLoggedIn(bob, 'A')).toBe('bob')
  expect(await cluster.whoIsLoggedIn(bob, 'B')).toBe('bob')
})

test('Redis restarted during a pending login: clear errors, no crash, and the next login works', async () => {
  const browser = cluster.browser()
  const callback = await cluster.authorize(browser, 'A')

  await cluster.redis.stop()
  await cluster.redisLost()
  // express-session cannot load the session: it passes the store's error on (500, no express-par
  // code), which the example app's error handler logs.
  const logged = jest.spyOn(console, 'error').mockImplementation(() => {})
  let whileDown
  let loggedErrors: string[]
  try {
    whileDown = await cluster.request(browser, 'B', callback)
    loggedErrors = logged.mock.calls.map(([err]) => (err as Error).message)
  } finally {
    logged.mockRestore()
  }
  expect(whileDown.status).toBe(500)
  expect(errorCode(whileDown)).toBe('ERR_UNEXPECTED')
  expect(loggedErrors).toEqual(['The client is offline']) // node-redis's ClientOfflineError

  await cluster.redis.start()
  await cluster.redisReady()
  // Redis without persistence came back empty: the pending login is gone, and express-par says so.
  const afterRestart = await cluster.request(browser, 'B', callback)
  expect(afterRestart.status).toBe(400)
  expect(errorCode(afterRestart)).toBe('ERR_LOGIN_NOT_PENDING')
  expect(cluster.redisErrors.length).toBeGreaterThan(0)

  const again = await cluster.request(browser, 'A', await cluster.authorize(browser, 'B'))
  expect(again.status).toBe(302)
  expect(await cluster.whoIsLoggedIn(browser, 'A')).toBe('alice')
  expect(await cluster.whoIsLoggedIn(browser, 'B')).toBe('alice')
})
