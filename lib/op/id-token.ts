/**
 * The ID token checks of OpenID Connect Core §3.1.3.7 that come after openid-client's. openid-client
 * has checked the claims (`iss`, `aud`, `azp` with several audiences, `exp`, `nonce`, `auth_time`,
 * `alg` against the OP's metadata); here:
 *
 * - the signature, by jose against the OP's keys of `jwks.ts` (the keys and refetch policy every
 *   JWT from the OP is verified with), with only the asymmetric algorithms the OP advertises;
 * - `typ`: absent or `JWT`, never the explicit type of another token (`at+jwt`, `logout+jwt`, ...:
 *   RFC 8725 §3.11), so a token minted for something else cannot pass as an ID token;
 * - `azp`, when present, names this client even with a single audience (§3.1.3.7 #5);
 * - `iat` no further in the future than `clockTolerance`.
 */

import { errors, jwtVerify } from 'jose'
import type { Config } from '../config/options.js'
import { parError } from '../errors.js'
import type { OpJwks } from './jwks.js'
import { SIGNING_ALGS } from './keys.js'
import { opError } from './op-errors.js'

/** `typ` values of an ID token (case-insensitive; `application/` may precede, RFC 7515 §4.1.9). */
const ID_TOKEN_TYP = /^(application\/)?jwt$/i

/** The OP's advertised ID token algorithms that are asymmetric signatures (the default is RS256, Discovery §3). */
export function idTokenAlgorithms(advertised: unknown): string[] {
  const listed = Array.isArray(advertised) && advertised.length > 0 ? (advertised as unknown[]) : ['RS256']
  return listed.filter((alg): alg is string => (SIGNING_ALGS as readonly unknown[]).includes(alg))
}

const invalid = (why: string, cause?: unknown) =>
  parError('ERR_ID_TOKEN_INVALID', `The ID token failed validation (${why}). The login is refused; check the OP's signing keys and clock.`, cause === undefined ? undefined : { cause })

/** A `typ` for a message: a media type as the OP wrote it, or a placeholder. */
const printableTyp = (typ: unknown) => (typeof typ === 'string' && /^[\w.+/-]{1,64}$/.test(typ) ? typ : '(not a media type)')

/**
 * Verifies the ID token's signature and the checks openid-client leaves out. Throws
 * `ERR_ID_TOKEN_INVALID` (or, when the keys cannot be fetched, `ERR_OP_TIMEOUT` / `ERR_OP_UNREACHABLE`).
 */
export async function checkIdToken(idToken: string, claims: Record<string, unknown>, jwks: OpJwks, advertisedAlgs: unknown, config: Config): Promise<void> {
  const algorithms = idTokenAlgorithms(advertisedAlgs)
  if (algorithms.length === 0) throw invalid('the OP advertises no asymmetric id_token_signing_alg_values_supported that express-par verifies')
  let typ: unknown
  try {
    ;({ protectedHeader: { typ } } = await jwtVerify(idToken, jwks.key, { algorithms, clockTolerance: config.clockTolerance }))
  } catch (err) {
    if (err instanceof errors.JOSEError) throw invalid(err.message, err)
    throw opError(err, 'jwks', config.httpTimeout)
  }
  if (typ !== undefined && !(typeof typ === 'string' && ID_TOKEN_TYP.test(typ))) {
    throw invalid(`its typ header is ${printableTyp(typ)}, the type of another kind of token; an ID token has no typ or "JWT" (RFC 8725 §3.11)`)
  }
  if (claims.azp !== undefined && claims.azp !== config.clientID) {
    throw invalid('its azp names another client; when present it must be this clientID (OpenID Connect Core §3.1.3.7)')
  }
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims.iat === 'number' && claims.iat > now + config.clockTolerance) {
    throw invalid(`its iat is ${claims.iat - now} s in the future, beyond clockTolerance (${config.clockTolerance} s); check the OP's clock`)
  }
}

/**
 * The claims as stored: a plain copy without a `__proto__` claim, which a later copy by
 * assignment (`user[name] = claims[name]`) would turn into the object's prototype.
 */
export function claimsToStore(claims: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {}
  for (const name of Object.keys(claims)) if (name !== '__proto__') copy[name] = claims[name]
  return copy
}
