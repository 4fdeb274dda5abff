/**
 * express-session's callback API as promises, with store failures turned into `ERR_SESSION_STORE`.
 * Every redirect that depends on session state waits for the store to confirm the write
 * (expressjs/session #309, #689).
 */

import type { Request } from 'express'
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

