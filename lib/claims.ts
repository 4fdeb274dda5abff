/**
 * The types of `req.oidc.user` and `req.oidc.idTokenClaims`: the standard claims of OpenID Connect
 * Core 1.0 §5.1 and the ID token's own (§2), typed; any other claim is `unknown`.
 *
 * An app adds the claims its OP sends by declaration merging, as with express-session's
 * `SessionData`:
 *
 * @example
 * ```ts
 * declare module 'express-par' {
 *   interface UserClaims {
 *     tenant_id?: string
 *     roles?: string[]
 *   }
 * }
 * // req.oidc.user?.roles is string[] | undefined; req.oidc.idTokenClaims has them too
 * ```
 */

/** The `address` claim (OpenID Connect Core 1.0 §5.1.1). */
export interface AddressClaim {
  formatted?: string
  street_address?: string
  locality?: string
  region?: string
  postal_code?: string
  country?: string
}

/**
 * The user's claims (`req.oidc.user`): OpenID Connect Core 1.0 §5.1. Only `sub` is always there;
 * the others depend on the scopes granted and the OP. Extend it by declaration merging (see above).
 */
export interface UserClaims {
  /** Subject: the user's identifier at the issuer, unique and never reassigned. */
  sub: string
  name?: string
  given_name?: string
  family_name?: string
  middle_name?: string
  nickname?: string
  preferred_username?: string
  /** URL of the user's profile page. */
  profile?: string
  /** URL of the user's picture. */
  picture?: string
  website?: string
  email?: string
  email_verified?: boolean
  gender?: string
  /** `YYYY-MM-DD`, or `YYYY` / `0000-MM-DD` when part of it is withheld. */
  birthdate?: string
  /** IANA time zone, e.g. `Europe/Paris`. */
  zoneinfo?: string
  /** BCP 47 language tag, e.g. `en-US`. */
  locale?: string
  phone_number?: string
  phone_number_verified?: boolean
  address?: AddressClaim
  /** When the user's information was last updated, seconds since the epoch. */
  updated_at?: number
  /** Any other claim the OP sends. */
  [claim: string]: unknown
}

/** All claims of the validated ID token (`req.oidc.idTokenClaims`): OpenID Connect Core 1.0 §2, and the user's. */
export interface IdTokenClaims extends UserClaims {
  iss: string
  aud: string | string[]
  /** Expiry, seconds since the epoch. */
  exp: number
  /** Issued at, seconds since the epoch. */
  iat: number
  /** When the user authenticated, seconds since the epoch (present when `max_age` was requested). */
  auth_time?: number
  nonce?: string
  acr?: string
  amr?: string[]
  azp?: string
  /** The OP's session id (OpenID Connect Front-/Back-Channel Logout). */
  sid?: string
  at_hash?: string
  c_hash?: string
}
