/**
 * The login index that back-channel logout reads (OpenID Connect Back-Channel Logout 1.0 §2.7):
 * at the callback, the new session's id is added to two sets in the coordination store, one
 * named by the OP session (`sid`) and one by the user (`sub`). A logout token names one of them,
 * so the back-channel logout finds every session to end without scanning the session store, and
 * no request pays anything for it: the index is written at login and read at logout only.
 *
 * Keys are digests of the issuer and the `sid` or `sub` (`bcl-sid:<digest>`, `bcl-sub:<digest>`,
 * under the instance's `express-par:<name>:` prefix): the coordination store never sees a user
 * identifier. The members are the session ids themselves, because reaching a session in an
 * express-session store takes its real id; each is checked against the login it finds before
 * anything is ended, so a stale or foreign member ends nothing.
 */

import { invalid } from '../config/checks.js'
import type { Runtime } from '../runtime.js'
import { digest } from './digest.js'
import { instancesFor } from './instances.js'
import type { InstanceState } from './state.js'

/** Who the OP says a login is: its issuer, `sub`, and `sid` when the ID token carried one. */
export interface OpSession {
  iss: string
  sub: string
  sid?: string
}

/**
 * How long an index entry lives when `session.absoluteDuration` is off: no browser keeps a
 * cookie longer (Chromium and Firefox cap cookie lifetimes at 400 days).
 */
export const INDEX_TTL_WITHOUT_ABSOLUTE_S = 400 * 86400

/** Checks the `backchannelLogout` option of `auth()`. */
export function checkBackchannelLogout(value: unknown): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean') invalid(`\`backchannelLogout\` must be true or false, got ${JSON.stringify(value)}.`)
  return value
}

const key = (kind: 'sid' | 'sub', issuer: string, value: string): string => `bcl-${kind}:${digest(JSON.stringify([issuer, value]))}`

/** The `sid` and `sub` of validated ID token claims, as the index keeps them. */
export function opSessionOf(claims: Record<string, unknown>): OpSession | undefined {
  if (typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.iss !== 'string') return undefined
  return typeof claims.sid === 'string' && claims.sid !== '' ? { iss: claims.iss, sub: claims.sub, sid: claims.sid } : { iss: claims.iss, sub: claims.sub }
}

/** Adds `sessionId` to the sets of `opSession`, for as long as the login can live. */
export async function indexLogin(runtime: Runtime, opSession: OpSession, sessionId: string): Promise<void> {
  const issuer = opSession.iss
  const absolute = runtime.config.lifetimes.absoluteDuration
  const ttl = absolute === false ? INDEX_TTL_WITHOUT_ABSOLUTE_S : absolute
  await runtime.coordination.addToSet(key('sub', issuer, opSession.sub), sessionId, ttl)
  if (opSession.sid !== undefined) await runtime.coordination.addToSet(key('sid', issuer, opSession.sid), sessionId, ttl)
}

/**
 * The session ids indexed for what a logout token names: by `sid` when it has one (the narrower
 * set; with `sub` too, both must match the login), else by `sub`. `forget()` drops the set once
 * its sessions are ended.
 */
export async function indexedSessions(runtime: Runtime, issuer: string, named: { sid?: string; sub?: string }): Promise<{ ids: string[]; forget(): Promise<void> }> {
  const name = named.sid !== undefined ? key('sid', issuer, named.sid) : key('sub', issuer, named.sub!)
  return { ids: await runtime.coordination.members(name), forget: () => runtime.coordination.delete(name) }
}

/**
 * The other instances' logins a callback carried into the new session id `sessionId`: each is
 * indexed there by its own instance, so that its OP's back-channel logout still finds it. A login
 * that cannot be indexed (its instance is not in this process, or its coordination store fails)
 * is not carried: it is logged out rather than out of the OP's reach.
 */
export async function reindexCarriedLogins(all: Record<string, InstanceState>, except: string, sessionId: string): Promise<void> {
  for (const [name, state] of Object.entries(all)) {
    const opSession = state.login?.opSession
    if (name === except || opSession === undefined) continue // not indexed: its instance has no back-channel logout
    const instances = instancesFor(name, opSession.iss).filter((runtime) => runtime.config.backchannelLogout)
    try {
      if (instances.length === 0) throw new Error(`no auth({ name: ${JSON.stringify(name)} }) for ${opSession.iss} in this process`)
      for (const runtime of instances) await indexLogin(runtime, opSession, sessionId)
    } catch {
      delete state.login
    }
  }
}
