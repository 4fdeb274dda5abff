/**
 * Validating a logout token (OpenID Connect Back-Channel Logout 1.0 §2.6). jose verifies the JWS
 * against the OP's keys and checks `iss`, `aud`, `exp` and `iat` (not in the future, not older
 * than {@link LOGOUT_TOKEN_MAX_AGE_S}) within `clockTolerance`; the checks jose does not know sit
 * on top: `typ`, `events`, `sid`/`sub`, no `nonce`. The `jti` replay check is the caller's (it
 * needs the coordination store): a token is only recorded once everything else passed.
 *
 * Messages never quote the token: it is attacker input until its signature verified.
 */

import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose'
import { ExpressParError, parError } from '../errors.js'
import { SIGNING_ALGS } from './keys.js'
import { opError } from './op-errors.js'

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout'

/**
 * The oldest logout token accepted, by its `iat`, in seconds. OPs issue one per delivery and give
 * it a short life (oidc-provider: 120 s); the bound also bounds how long a `jti` is remembered.
 */
export const LOGOUT_TOKEN_MAX_AGE_S = 600

/**
 * The OP's signing keys, as jose's `jwtVerify` takes them: `(protectedHeader, token) => key`.
 * Injected, so that the JWKS policy (one refetch for an unknown `kid`, then at most one per 30 s)
 * lives in one place.
 */
export type OpKeyResolver = JWTVerifyGetKey

export interface LogoutTokenExpectations {
  /** The OP's issuer identifier, as its metadata states it. */
  issuer: string
  clientID: string
  /** Algorithms the OP signs ID tokens with (asymmetric only, see {@link logoutTokenAlgorithms}). */
  algorithms: readonly string[]
  clockTolerance: number
  keys: OpKeyResolver
  /** For the message when the OP's keys cannot be fetched in time. */
  httpTimeout: number
}

/** A validated logout token: what it ends, and until when its `jti` must be remembered. */
export interface LogoutToken {
  iss: string
  jti: string
  sid?: string
  sub?: string
  /** Seconds since the epoch after which this token would be refused anyway (exp or max age, plus clockTolerance). */
  acceptableUntil: number
}

/**
 * The algorithms a logout token may be signed with: those the OP advertises for ID tokens
 * (`id_token_signing_alg_values_supported`, RS256 when it lists none), never `none`, never HMAC.
 */
export function logoutTokenAlgorithms(metadata: { id_token_signing_alg_values_supported?: unknown }, profile?: { idTokenAlgs: readonly string[] }): string[] {
  const advertised = metadata.id_token_signing_alg_values_supported
  const listed = Array.isArray(advertised) && advertised.length > 0 ? advertised : ['RS256']
  // Under a FAPI profile, only what it permits for ID tokens (PS256, ES256, EdDSA).
  return listed.filter((alg): alg is string => (SIGNING_ALGS as readonly string[]).includes(alg) && (profile === undefined || profile.idTokenAlgs.includes(alg)))
}

const invalid = (why: string, cause?: unknown) =>
  parError('ERR_LOGOUT_TOKEN_INVALID', `The logout token ${why}; it is refused and no session was ended.`, cause === undefined ? {} : { cause })

/** jose's verdicts as express-par errors: which check failed, without the token's own text. */
function joseFailure(err: unknown, expected: LogoutTokenExpectations): ExpressParError {
  if (err instanceof ExpressParError) return err
  if (err instanceof errors.JWTExpired) return invalid(`has expired (exp, or iat older than ${LOGOUT_TOKEN_MAX_AGE_S} s, beyond clockTolerance ${expected.clockTolerance} s)`, err)
  if (err instanceof errors.JWTClaimValidationFailed) {
    const claim = ['iss', 'aud', 'iat', 'exp', 'nbf', 'jti', 'events'].includes(err.claim) ? err.claim : 'a'
    const rule = claim === 'iss' ? ` (it must be ${expected.issuer})` : claim === 'aud' ? ` (it must include the client ID ${expected.clientID})` : ''
    return invalid(`has a missing or wrong "${claim}" claim${rule}`, err)
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return invalid(`is not signed with an algorithm the OP uses for ID tokens (${expected.algorithms.join(', ') || 'none advertised that express-par accepts'})`, err)
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return invalid('names no key of the OP\'s JWKS (unknown kid, or no single key fits)', err)
  if (err instanceof errors.JWSSignatureVerificationFailed) return invalid('has a signature that does not verify with the OP\'s key', err)
  if (err instanceof errors.JWKSTimeout) return parError('ERR_OP_TIMEOUT', 'The OP\'s JWKS did not arrive in time to verify a logout token; no session was ended.', { cause: err })
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return invalid('is not a signed JWT express-par can read', err)
  if (err instanceof errors.JOSEError) return invalid('could not be verified (see err.cause)', err)
  return opError(err, 'jwks', expected.httpTimeout) // the OP's keys could not be fetched: timeout, size, network
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** `typ`, when present, must be `logout+jwt` (RFC 7515 §4.1.9: case-insensitive, `application/` may be omitted). */
function checkType(header: ProtectedHeaderParameters): void {
  if (header.typ === undefined) return
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase().replace(/^application\//, '') : ''
  if (typ !== 'logout+jwt') throw invalid('has a "typ" header other than logout+jwt (an ID token or another JWT is not a logout token)')
}

/** The claims jose does not check (§2.4): `jti`, `events`, `sid` and/or `sub`, and no `nonce`. */
function checkClaims(payload: JWTPayload): { jti: string; sid?: string; sub?: string } {
  if (typeof payload.jti !== 'string' || payload.jti === '') throw invalid('has no "jti" string')
  const events = payload.events
  if (!isObject(events) || !isObject(events[BACKCHANNEL_LOGOUT_EVENT])) {
    throw invalid(`has no "events" object with the member ${BACKCHANNEL_LOGOUT_EVENT} as a JSON object`)
  }
  if (payload.sid !== undefined && (typeof payload.sid !== 'string' || payload.sid === '')) throw invalid('has a "sid" that is not a non-empty string')
  if (payload.sub !== undefined && (typeof payload.sub !== 'string' || payload.sub === '')) throw invalid('has a "sub" that is not a non-empty string')
  if (payload.sid === undefined && payload.sub === undefined) throw invalid('names neither a "sid" nor a "sub"')
  if (Object.hasOwn(payload, 'nonce')) throw invalid('has a "nonce" claim (logout tokens must not have one: it may be an ID token)')
  return {
    jti: payload.jti,
    ...(typeof payload.sid === 'string' && { sid: payload.sid }),
    ...(typeof payload.sub === 'string' && { sub: payload.sub }),
  }
}

/** Verifies `token` as a logout token of the OP for this client. Throws `ERR_LOGOUT_TOKEN_INVALID` naming the failed check. */
export async function verifyLogoutToken(token: string, expected: LogoutTokenExpectations): Promise<LogoutToken> {
  let verified: Awaited<ReturnType<typeof jwtVerify>>
  try {
    verified = await jwtVerify(token, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientID,
      algorithms: [...expected.algorithms],
      clockTolerance: expected.clockTolerance,
      maxTokenAge: LOGOUT_TOKEN_MAX_AGE_S, // also makes `iat` required
      requiredClaims: ['exp', 'jti', 'events'],
    })
  } catch (err) {
    throw joseFailure(err, expected)
  }
  const { payload, protectedHeader } = verified
  checkType(protectedHeader)
  const named = checkClaims(payload)
  const until = Math.min(payload.exp!, payload.iat! + LOGOUT_TOKEN_MAX_AGE_S) + expected.clockTolerance
  return { iss: payload.iss!, ...named, acceptableUntil: until }
}
