/**
 * express-session's MemoryStore, made to fail on command: the test picks which upcoming call of
 * `get`, `set` or `destroy` answers with an error, as a Redis that drops the connection would.
 * Everything else is the real MemoryStore (it keeps sessions as JSON strings, like Redis does).
 */

import { MemoryStore, type SessionData } from 'express-session'

export type StoreMethod = 'get' | 'set' | 'destroy'

type Callback = (err?: unknown, value?: SessionData | null) => void

export class FailingStore extends MemoryStore {
  /** For each armed method: how many more calls succeed before one fails. */
  readonly #armed = new Map<StoreMethod, number>()
  /** The methods that failed, in order. */
  readonly failed: StoreMethod[] = []
  /** Called with every session handed to `set`, before it is serialised. */
  inspect?: (session: SessionData) => void

  /** Makes the `nth` next call of `method` (1 = the very next one) fail, once. */
  failOn(method: StoreMethod, nth = 1): void {
    this.#armed.set(method, nth - 1)
  }

  /** Drops every armed failure. */
  reset(): void {
    this.#armed.clear()
  }

  #failNow(method: StoreMethod, callback: Callback | undefined): boolean {
    const before = this.#armed.get(method)
    if (before === undefined) return false
    if (before > 0) {
      this.#armed.set(method, before - 1)
      return false
    }
    this.#armed.delete(method)
    this.failed.push(method)
    setImmediate(() => callback?.(new Error(`simulated session store failure: ${method}`)))
    return true
  }

  override get(sid: string, callback: Callback): void {
    if (!this.#failNow('get', callback)) super.get(sid, callback)
  }

  override set(sid: string, session: SessionData, callback?: Callback): void {
    if (this.#failNow('set', callback)) return
    this.inspect?.(session)
    super.set(sid, session, callback)
  }

  override destroy(sid: string, callback?: Callback): void {
    if (!this.#failNow('destroy', callback)) super.destroy(sid, callback)
  }

  /** Every stored session, as the store holds it (MemoryStore itself owns the name `sessions`). */
  storedSessions(): Promise<SessionData[]> {
    return new Promise((resolve, reject) => {
      this.all((err, all) => (err ? reject(err) : resolve(Object.values(all ?? {}))))
    })
  }
}
