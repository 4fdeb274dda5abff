/**
 * Coordination: a small store shared by every instance of the app, with atomic "set if absent"
 * and expiry. It is what makes the one-time rules hold across instances: a callback redeemed
 * once, a refresh made once, a logout token accepted once, and the index of logins that a
 * back-channel logout ends.
 *
 * `memoryCoordination()` (the default) covers one process; `redisCoordination(client)` from
 * `express-par/redis` covers several. Any object with these five methods works.
 */

import { parError } from '../errors.js'
import { invalid } from '../config/checks.js'

/** The shared store express-par coordinates instances through. Keys and values are strings. */
export interface Coordination {
  /** Stores `value` under `key` for `ttlSeconds` unless `key` holds a value; resolves `true` when it stored. Atomic. */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>
  /** The value under `key`, or `undefined`. */
  get(key: string): Promise<string | undefined>
  /** Removes `key` (a value or a set). */
  delete(key: string): Promise<void>
  /** Adds `member` to the set under `key` and sets the set to expire `ttlSeconds` from now. */
  addToSet(key: string, member: string, ttlSeconds: number): Promise<void>
  /** The members of the set under `key` (none when it does not exist). */
  members(key: string): Promise<string[]>
}

const METHODS = ['setIfAbsent', 'get', 'delete', 'addToSet', 'members'] as const

interface Entry {
  value: string | Set<string>
  expires: number
}

/**
 * Coordination within one process: enough for a single instance (and the default). Expired
 * entries are dropped when read and swept as new ones arrive, so it stays as small as what is live.
 *
 * @example
 * auth({ ..., coordination: memoryCoordination() })
 */
export function memoryCoordination(): Coordination {
  const entries = new Map<string, Entry>()
  let writesSinceSweep = 0
  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expires > Date.now()) return entry
    entries.delete(key)
    return undefined
  }
  const wrote = (): void => {
    if (++writesSinceSweep < 1000 && writesSinceSweep < entries.size) return
    writesSinceSweep = 0
    const now = Date.now()
    for (const [key, entry] of entries) if (entry.expires <= now) entries.delete(key)
  }
  return {
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(key) !== undefined) return false
      entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 })
      wrote()
      return true
    },
    async get(key) {
      const value = live(key)?.value
      return typeof value === 'string' ? value : undefined
    },
    async delete(key) {
      entries.delete(key)
    },
    async addToSet(key, member, ttlSeconds) {
      const entry = live(key)
      const set = entry !== undefined && entry.value instanceof Set ? entry.value : new Set<string>()
      set.add(member)
      entries.set(key, { value: set, expires: Date.now() + ttlSeconds * 1000 })
      wrote()
    },
    async members(key) {
      const value = live(key)?.value
      return value instanceof Set ? [...value] : []
    },
  }
}

/** Checks the `coordination` option: an object with the five methods. */
export function checkCoordination(value: unknown): Coordination {
  if (value === undefined) return memoryCoordination()
  if (typeof value !== 'object' || value === null) {
    invalid('`coordination` must be a coordination store: `memoryCoordination()` (one process) or `redisCoordination(client)` from express-par/redis (several instances).')
  }
  const missing = METHODS.filter((method) => typeof (value as Record<string, unknown>)[method] !== 'function')
  if (missing.length > 0) {
    invalid(`\`coordination\` lacks ${missing.join(', ')}: use \`redisCoordination(client)\` from express-par/redis, or implement ${METHODS.join(', ')}.`)
  }
  return value as Coordination
}

/**
 * The coordination store as the rest of express-par sees it: keys under `express-par:<name>:`,
 * whole seconds of at least one, a deadline, and every failure as `ERR_COORDINATION_FAILED`.
 */
export class CoordinationClient {
  readonly #store: Coordination
  readonly #prefix: string
  readonly #timeoutMs: number

  constructor(store: Coordination, name: string, timeoutMs: number) {
    this.#store = store
    this.#prefix = `express-par:${name}:`
    this.#timeoutMs = timeoutMs
  }

  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean> {
    return this.#call('set a key in', () => this.#store.setIfAbsent(this.#prefix + key, value, wholeSeconds(ttlSeconds)))
  }

  get(key: string): Promise<string | undefined> {
    return this.#call('read', () => this.#store.get(this.#prefix + key))
  }

  delete(key: string): Promise<void> {
    return this.#call('delete a key in', () => this.#store.delete(this.#prefix + key))
  }

  addToSet(key: string, member: string, ttlSeconds: number): Promise<void> {
    return this.#call('add to a set in', () => this.#store.addToSet(this.#prefix + key, member, wholeSeconds(ttlSeconds)))
  }

  members(key: string): Promise<string[]> {
    return this.#call('read a set in', () => this.#store.members(this.#prefix + key))
  }

  async #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs)
    })
    try {
      return await Promise.race([Promise.resolve().then(operation), deadline])
    } catch (err) {
      throw parError(
        'ERR_COORDINATION_FAILED',
        `express-par could not ${what} the coordination store (the reason is in err.cause). Check that it (e.g. Redis) is reachable and answers within httpTimeout (${this.#timeoutMs} ms).`,
        { cause: err },
      )
    } finally {
      clearTimeout(timer)
    }
  }
}

function wholeSeconds(ttl: number): number {
  return Math.max(1, Math.ceil(ttl))
}
