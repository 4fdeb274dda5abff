/**
 * Silent login's state: the "already tried" marker (in the instance's session state, so it needs
 * no cookie of its own and ends with the session), and the OP answers that end a silent login
 * quietly (OpenID Connect Core 1.0 §3.1.2.6): the OP would need the user, so the user stays
 * anonymous on the page they asked for. Any other answer is an error like any login's.
 */

import { ExpressParError } from '../errors.js'
import type { PendingLogin } from './pending-logins.js'
import { ensureInstanceState, instanceState, type AnySession } from './state.js'

/** `prompt=none` answers meaning "not without the user" (also when they arrive inside a JARM response). */
export const SILENT_LOGIN_DECLINED = new Set(['login_required', 'interaction_required', 'consent_required', 'account_selection_required'])

export function silentLoginTried(session: AnySession, name: string): boolean {
  return instanceState(session, name)?.silentTried === 1
}

export function markSilentLoginTried(session: AnySession, name: string): void {
  ensureInstanceState(session, name).silentTried = 1
}

/** Whether `err`, at the callback of `login`, is a silent login the OP declined. */
export function silentLoginDeclined(login: PendingLogin, err: unknown): boolean {
  return login.s === 1 && err instanceof ExpressParError && err.code === 'ERR_LOGIN_REFUSED' && SILENT_LOGIN_DECLINED.has(err.error ?? '')
}
