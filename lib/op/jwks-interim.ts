/**
 * INTERIM: the OP's JWKS as the key resolver of logout tokens, until `lib/op/jwks.ts` (the JWKS
 * with express-par's refetch policy and the OP-call customFetch) lands. This is the one place
 * that builds it: swap `opKeyResolver` for the jwks.ts resolver and delete this file.
 *
 * jose's remote JWKS fetches on first use, shares one fetch among concurrent callers, and refetches
 * for an unknown `kid` at most once per `cooldownDuration` (30 s), so a flood of tokens naming
 * unknown keys costs at most one JWKS fetch per 30 s.
 */

import { createRemoteJWKSet } from 'jose'
import type { OpKeyResolver } from './logout-token.js'

/** The key resolver for tokens the OP signs with the keys at `jwksUri`. */
export function opKeyResolver(jwksUri: string, httpTimeout: number): OpKeyResolver {
  return createRemoteJWKSet(new URL(jwksUri), { cooldownDuration: 30_000, timeoutDuration: httpTimeout })
}
