/**
 * express-session's callback API as promises, with store failures turned into `ERR_SESSION_STORE`.
 * Every redirect that depends on session state waits for the store to confirm the write
 * (expressjs/session #309, #689).
 */

import type { Request } from 'express'
import type { SessionData, Store } from 'express-session'
import { parError } from '../errors.js'

function storeCall(req: Request, action: 'save' | 'regenerate' | 'destroy'): Promise<void> {
  return new Promise((resolve, reject) => {
    req.session[action]((err?: unknown) => {
      if (err) {
        reject(
          parError('ERR_SESSION_STORE', `The session store failed to ${action} the session. Check the store (e.g. Redis) is reachable; nothing was logged in or out.`, {
            cause: err,
          }),
        )
      } else {
        resolve()
      }
    })
  })
}

export const saveSession = (req: Request): Promise<void> => storeCall(req, 'save')
export const regenerateSession = (req: Request): Promise<void> => storeCall(req, 'regenerate')
export const destroySession = (req: Request): Promise<void> => storeCall(req, 'destroy')


/**
 * The same for a session that is not the request's own: a back-channel logout reaches the
 * sessions of a user through `req.sessionStore` (express-session's store, callbacks) by id.
 */
function storeCallback<T>(action: string, call: (done: (err?: unknown, value?: T) => void) => void): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    call((err, value) => {
      if (err) reject(parError('ERR_SESSION_STORE', `The session store failed to ${action} a stored session. Check the store (e.g. Redis) is reachable.`, { cause: err }))
      else resolve(value)
    })
  })
}

export const readStoredSession = (store: Store, id: string): Promise<SessionData | null | undefined> =>
  storeCallback<SessionData | null>('read', (done) => store.get(id, done))
export const writeStoredSession = (store: Store, id: string, session: SessionData): Promise<void> =>
  storeCallback<void>('write', (done) => store.set(id, session, done)).then(() => undefined)
export const destroyStoredSession = (store: Store, id: string): Promise<void> =>
  storeCallback<void>('destroy', (done) => store.destroy(id, done)).then(() => undefined)
