/**
 * `express-par/redis`: coordination through Redis, for apps that run several instances. Takes a
 * connected node-redis v4 or v5 client (`createClient()` from `redis`); express-par does not
 * depend on the `redis` package itself. Commands are sent as plain Redis commands, which both
 * versions accept the same way.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { redisCoordination } from 'express-par/redis'
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 * app.use(auth({ ..., coordination: redisCoordination(redis) }))
 * ```
 */

import type { Coordination } from './session/coordination.js'

/** The part of a node-redis client this needs. */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>
}

export interface RedisCoordinationOptions {
  /** Prefix of every key, so several apps can share one Redis. Default `''` (keys start with `express-par:`). */
  prefix?: string
}

/**
 * Coordination for several instances, on Redis: `SET NX EX` for "set if absent with expiry",
 * `GET`, `DEL`, `SADD` + `EXPIRE`, `SMEMBERS`.
 */
export function redisCoordination(client: RedisCommandClient, options: RedisCoordinationOptions = {}): Coordination {
  if (typeof client?.sendCommand !== 'function') {
    throw new TypeError('redisCoordination(client) takes a node-redis v4 or v5 client: createClient({ url }) from the `redis` package, connected.')
  }
  const prefix = options.prefix ?? ''
  const send = (...args: string[]) => client.sendCommand(args)
  return {
    async setIfAbsent(key, value, ttlSeconds) {
      return (await send('SET', prefix + key, value, 'NX', 'EX', String(ttlSeconds))) === 'OK'
    },
    async get(key) {
      const value = await send('GET', prefix + key)
      return typeof value === 'string' ? value : undefined
    },
    async delete(key) {
      await send('DEL', prefix + key)
    },
    async addToSet(key, member, ttlSeconds) {
      await send('SADD', prefix + key, member)
      await send('EXPIRE', prefix + key, String(ttlSeconds))
    },
    async members(key) {
      const members = await send('SMEMBERS', prefix + key)
      return Array.isArray(members) ? members.map(String) : []
    },
  }
}

export type { Coordination } from './session/coordination.js'
