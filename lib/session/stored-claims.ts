/**
 * The claims a login keeps in the session: the user's (`sub`, `name`, `email`, ...). The protocol
 * claims (`iss`, `aud`, `exp`, `nonce`, `sid`, `acr`, ...) are in the stored ID token, which the
 * callback (or a refresh) validated, and are read from it when something asks for them:
 * `req.oidc.idTokenClaims`, the refresh's continuity check, the events' `acr` and `amr`.
 *
 * Every request that loads a session parses it, and express-session hashes it twice (to see
 * whether to save it), so each claim kept twice was paid for on every request (bench/PROFILE.md).
 * `afterCallback` still receives all the validated claims; what it returns is stored this way.
 */

import { decodeJwt } from 'jose'
import type { StoredAuth } from '../config/options.js'

/**
 * ID token claims about the protocol rather than the user: never in `req.oidc.user`, never stored
 * in `claims`. So is `__proto__`: a copy by assignment would make its value the object's prototype.
 */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 'at_hash', 'c_hash', 's_hash', 'sid', 'acr', 'amr', 'jti', '__proto__'])

/** A plain copy of `claims` without the protocol claims (nor `__proto__`). */
export function userClaims(claims: Record<string, unknown>): Record<string, unknown> {
  const user: Record<string, unknown> = {}
  for (const name of Object.keys(claims)) if (!PROTOCOL_CLAIMS.has(name)) user[name] = claims[name]
  return user
}

/** The record a login stores: `auth` with the user's claims only. */
export function storedForm(auth: StoredAuth): StoredAuth {
  return { ...auth, claims: userClaims(auth.claims) }
}

/**
 * All claims of a login: the protocol claims of its stored, validated ID token, and the stored
 * claims (the user's, as `afterCallback` left them). A plain object without `__proto__`.
 */
export function idTokenClaimsOf(auth: StoredAuth): Record<string, unknown> {
  let token: Record<string, unknown> = {}
  try {
    token = decodeJwt(auth.idToken)
  } catch {
    // afterCallback may store anything as `idToken`; then only the stored claims are known
  }
  const claims: Record<string, unknown> = {}
  for (const name of Object.keys(token)) if (PROTOCOL_CLAIMS.has(name) && name !== '__proto__') claims[name] = token[name]
  for (const name of Object.keys(auth.claims)) if (name !== '__proto__') claims[name] = auth.claims[name]
  return claims
}

/** {@link idTokenClaimsOf} a login, if there is one. */
export function claimsOfLogin(login: { auth: StoredAuth } | undefined): Record<string, unknown> | undefined {
  return login === undefined ? undefined : idTokenClaimsOf(login.auth)
}
