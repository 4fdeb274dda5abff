/**
 * The refresh token grant (RFC 6749 §6) through openid-client. A refreshed ID token is checked like
 * the login's (openid-client's claim checks, then `checkIdToken`: signature against the OP's keys,
 * `typ`, `azp`, `iat`), and as OpenID Connect Core §12.2 asks: the same `iss`, `sub`, `aud` and
 * `azp` as the ID token of the login, and the original `auth_time`. Without a new refresh token in the answer, the old one stays;
 * so do the granted RFC 9396 `authorization_details` without new ones (§7: the answer may narrow them).
 */

import * as client from 'openid-client'
import type { StoredAuth } from '../config/options.js'
import { parError, type ExpressParError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { checkIdToken } from './id-token.js'
import { idTokenClaimsOf, userClaims } from '../session/stored-claims.js'
import { opError } from './op-errors.js'
import { checkSenderConstraint, dpopOptions, type DPoPKeyRecord } from './dpop.js'
import { checkIdTokenAlg } from '../config/profile.js'
import { grantedAuthorizationDetails } from './authorization-details.js'
import { opMetadata } from './metadata.js'

/** The token part of a login after a refresh: what replaces the stored one. */
export type RefreshedTokens = Pick<StoredAuth, 'accessToken' | 'tokenType' | 'expiresAt' | 'refreshToken' | 'scope' | 'idToken' | 'claims' | 'authorizationDetails'>

const SAME_AS_LOGIN = ['iss', 'sub', 'aud', 'azp', 'auth_time'] as const

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

/** OpenID Connect Core §12.2: the refreshed ID token speaks of the same login. */
function checkContinuity(original: Record<string, unknown>, refreshed: Record<string, unknown>): void {
  for (const claim of SAME_AS_LOGIN) {
    if (!sameValue(original[claim], refreshed[claim])) {
      throw parError(
        'ERR_ID_TOKEN_INVALID',
        `The refreshed ID token's ${claim} differs from the login's (OpenID Connect Core §12.2), so it speaks of another login. The login is ended; log in again.`,
      )
    }
  }
}

/**
 * Redeems `auth.refreshToken` at the OP (with the login's DPoP key, when it has one) and resolves
 * to the new tokens. Throws `ERR_REFRESH_REJECTED` for `invalid_grant`, `ERR_ID_TOKEN_INVALID` for
 * a refreshed ID token that fails a check, `ERR_DPOP_DOWNGRADE` for tokens that are not DPoP-bound
 * though the login is, and the OP-failure codes otherwise.
 */
export async function refreshGrant(runtime: Runtime, auth: StoredAuth, dpopKey: DPoPKeyRecord | undefined): Promise<RefreshedTokens> {
  const { config } = runtime
  const op = await runtime.op()
  let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>
  try {
    tokens = await client.refreshTokenGrant(op, auth.refreshToken!, undefined, await dpopOptions(op, dpopKey))
  } catch (err) {
    throw err instanceof client.ResponseBodyError && err.error === 'invalid_grant'
      ? parError('ERR_REFRESH_REJECTED', 'The OP refused the refresh token (invalid_grant): the grant was revoked or has expired. The login is ended; log in again.', {
          cause: err,
          error: err.error,
          errorDescription: err.error_description,
        })
      : opError(err, 'token', config.httpTimeout)
  }
  checkSenderConstraint(tokens.token_type, dpopKey, 'refresh') // a proof was sent: a Bearer answer is a downgrade
  const authorizationDetails = grantedAuthorizationDetails(tokens.authorization_details, 'refresh') ?? auth.authorizationDetails
  const claims = tokens.claims()
  if (claims) {
    // openid-client checked the claims; the signature and the rest, against the OP's keys, as at the login.
    await checkIdToken(tokens.id_token!, claims, runtime.jwks, opMetadata(op).id_token_signing_alg_values_supported, config)
    checkIdTokenAlg(config.profile, tokens.id_token!)
    checkContinuity(idTokenClaimsOf(auth), claims)
  }
  const expiresIn = tokens.expiresIn()
  return {
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    expiresAt: expiresIn === undefined ? undefined : Math.floor(Date.now() / 1000) + expiresIn,
    refreshToken: tokens.refresh_token ?? auth.refreshToken,
    scope: tokens.scope ?? auth.scope,
    idToken: tokens.id_token ?? auth.idToken,
    claims: claims ? userClaims(claims) : auth.claims,
    ...(authorizationDetails && { authorizationDetails }),
  }
}

/** Whether a refresh error means the login cannot go on (rather than "try again later"). */
export function endsLogin(err: ExpressParError): boolean {
  return err.code === 'ERR_REFRESH_REJECTED' || err.code === 'ERR_ID_TOKEN_INVALID' || err.code === 'ERR_DPOP_DOWNGRADE'
}
