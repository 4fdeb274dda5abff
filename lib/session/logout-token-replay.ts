/**
 * The logout-token replay cache (Back-Channel Logout 1.0 §2.6 step 6, "a jti never seen before"):
 * one "set if absent" per accepted token in the coordination store, so a token accepted by one
 * instance is refused by every other. The key is a digest of the issuer and the `jti`
 * (`bcl-jti:<digest>`); the value is `1`. It lives as long as the token could still be accepted:
 * until its `exp` (or its maximum age) plus `clockTolerance`.
 */

import type { Runtime } from '../runtime.js'
import { digest } from './digest.js'

const key = (issuer: string, jti: string): string => `bcl-jti:${digest(JSON.stringify([issuer, jti]))}`

/** Records the token; resolves `false` when it was recorded before (a replay). */
export function claimLogoutToken(runtime: Runtime, issuer: string, jti: string, ttlSeconds: number): Promise<boolean> {
  return runtime.coordination.setIfAbsent(key(issuer, jti), '1', ttlSeconds)
}

/** Forgets the token again, when the logout it asked for could not be carried out: the OP may send it again. */
export function releaseLogoutToken(runtime: Runtime, issuer: string, jti: string): Promise<void> {
  return runtime.coordination.delete(key(issuer, jti))
}
