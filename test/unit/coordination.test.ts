/** memoryCoordination(): atomic set-if-absent with expiry, sets, and the adapter's error and key handling. */

import { CoordinationClient, memoryCoordination, type Coordination } from '../../lib/session/coordination.js'
import { ExpressParError } from '../../lib/errors.js'

const realNow = Date.now
afterEach(() => {
  Date.now = realNow
})
const at = (ms: number) => {
  Date.now = () => ms
}

test('setIfAbsent stores once until the value expires', async () => {
  const store = memoryCoordination()
  at(1_000)
  expect(await store.setIfAbsent('k', 'first', 10)).toBe(true)
  expect(await store.setIfAbsent('k', 'second', 10)).toBe(false)
  expect(await store.get('k')).toBe('first')
  at(10_999)
  expect(await store.get('k')).toBe('first')
  at(11_000)
  expect(await store.get('k')).toBeUndefined()
  expect(await store.setIfAbsent('k', 'third', 10)).toBe(true)
  expect(await store.get('k')).toBe('third')
})

test('concurrent setIfAbsent calls: exactly one wins', async () => {
  const store = memoryCoordination()
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => store.setIfAbsent('race', String(i), 60)))
  expect(results.filter(Boolean)).toHaveLength(1)
})

test('delete removes values and sets', async () => {
  const store = memoryCoordination()
  await store.setIfAbsent('v', 'x', 60)
  await store.addToSet('s', 'a', 60)
  await store.delete('v')
  await store.delete('s')
  expect(await store.get('v')).toBeUndefined()
  expect(await store.members('s')).toEqual([])
})

test('sets gather members, renew their expiry on each add, and expire', async () => {
  const store = memoryCoordination()
  at(0)
  await store.addToSet('s', 'a', 10)
  at(5_000)
  await store.addToSet('s', 'b', 10)
  await store.addToSet('s', 'a', 10)
  expect((await store.members('s')).sort()).toEqual(['a', 'b'])
  at(14_999)
  expect((await store.members('s')).sort()).toEqual(['a', 'b'])
  at(15_000)
  expect(await store.members('s')).toEqual([])
})

describe('CoordinationClient', () => {
  test('prefixes keys with the instance name and rounds TTLs up to whole seconds of at least one', async () => {
    const calls: unknown[][] = []
    const recording: Coordination = {
      setIfAbsent: async (...args) => (calls.push(['setIfAbsent', ...args]), true),
      get: async (...args) => (calls.push(['get', ...args]), undefined),
      delete: async (...args) => void calls.push(['delete', ...args]),
      addToSet: async (...args) => void calls.push(['addToSet', ...args]),
      members: async (...args) => (calls.push(['members', ...args]), []),
    }
    const client = new CoordinationClient(recording, 'staff', 1000)
    await client.setIfAbsent('a', 'v', 0.2)
    await client.addToSet('b', 'm', 90.5)
    await client.get('c')
    await client.members('d')
    await client.delete('e')
    expect(calls).toEqual([
      ['setIfAbsent', 'express-par:staff:a', 'v', 1],
      ['addToSet', 'express-par:staff:b', 'm', 91],
      ['get', 'express-par:staff:c'],
      ['members', 'express-par:staff:d'],
      ['delete', 'express-par:staff:e'],
    ])
  })

  test('a failing or silent store becomes ERR_COORDINATION_FAILED, with the reason in cause only', async () => {
    const failing = memoryCoordination()
    failing.get = async () => {
      throw new Error('connect ECONNREFUSED 10.0.0.7:6379')
    }
    failing.setIfAbsent = () => new Promise(() => {})
    const client = new CoordinationClient(failing, 'default', 50)
    const refused = await client.get('k').catch((err: unknown) => err as ExpressParError)
    expect(refused).toBeInstanceOf(ExpressParError)
    expect((refused as ExpressParError).code).toBe('ERR_COORDINATION_FAILED')
    expect((refused as ExpressParError).status).toBe(500)
    expect((refused as ExpressParError).message).not.toContain('10.0.0.7')
    expect(((refused as ExpressParError).cause as Error).message).toContain('ECONNREFUSED')
    const silent = await client.setIfAbsent('k', 'v', 1).catch((err: unknown) => err as ExpressParError)
    expect((silent as ExpressParError).code).toBe('ERR_COORDINATION_FAILED')
    expect((silent as ExpressParError).message).toContain('50 ms')
  })
})
