/**
 * The OP's signing keys (its `jwks_uri`) for one `auth()` instance, and the one policy for
 * fetching them, shared by every JWT the OP signs (ID tokens today; JARM responses and
 * back-channel logout tokens later):
 *
 * - fetched on first use, and again before use once {@link JWKS_MAX_AGE_MS} old;
 * - a JWT whose key is not in the set triggers one refetch at once, so a key the OP rotated in
 *   is accepted on the very next login, even right after a fetch;
 * - further unknown keys cause at most one refetch per {@link UNKNOWN_KID_REFETCH_MS}, so tokens
 *   with made-up `kid`s (the back-channel logout route is public) cannot make the app hammer the OP;
 * - concurrent fetches are one request, and a failing `jwks_uri` is held back like discovery.
 *
 * Key selection and verification are jose's (`createLocalJWKSet`, `jwtVerify`); nothing here
 * looks inside a key or a signature.
 */

import { createLocalJWKSet, errors, type JWTVerifyGetKey } from 'jose'
import type { OpFetch } from './http.js'
import { retryGate } from './retry-gate.js'

export const JWKS_MAX_AGE_MS = 5 * 60 * 1000
export const UNKNOWN_KID_REFETCH_MS = 30 * 1000

/** The `jwks_uri` answered something that is not a JWK Set. */
export class JwksResponseInvalid extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = this.constructor.name
  }
}

/** The OP's keys, as a jose key resolver. */
export interface OpJwks {
  /**
   * A jose key resolver (`JWTVerifyGetKey`): the OP's key for a JWS header, fetching or refetching
   * the JWK Set by the policy above. Rejects with jose's `JWKSNoMatchingKey` (no such key, also
   * after any refetch the policy allows) or `JWKSMultipleMatchingKeys` (no `kid`, several
   * candidates), or with what fetching failed with (`TimeoutError`, `OpResponseTooLarge`,
   * {@link JwksResponseInvalid}, a network error).
   *
   * @example
   * ```ts
   * const { payload, protectedHeader } = await jwtVerify(token, runtime.jwks.key, { algorithms: ['PS256'], issuer, audience })
   * ```
   */
  readonly key: JWTVerifyGetKey
}

interface KeySet {
  readonly select: JWTVerifyGetKey
  readonly fetchedAt: number
}

async function readJwks(response: Response): Promise<KeySet> {
  if (response.status !== 200) throw new JwksResponseInvalid(`the jwks_uri answered HTTP ${response.status}, not 200`)
  const type = response.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json' && type !== 'application/jwk-set+json') throw new JwksResponseInvalid('the jwks_uri answered a content type other than application/json or application/jwk-set+json')
  let body: unknown
  try {
    body = await response.json()
  } catch (err) {
    throw new JwksResponseInvalid('the jwks_uri answered a body that is not JSON', { cause: err })
  }
  try {
    return { select: createLocalJWKSet(body as Parameters<typeof createLocalJWKSet>[0]), fetchedAt: Date.now() }
  } catch (err) {
    throw new JwksResponseInvalid('the jwks_uri answered JSON that is not a JWK Set ({"keys": [...]})', { cause: err })
  }
}

/**
 * The keys of the OP at `jwksUri` (resolved on first use: it comes from discovery).
 *
 * @see RFC 7517 §5 (JWK Set), OpenID Connect Core §10.1.1 (rotation of asymmetric signing keys)
 */
export function createOpJwks(options: { jwksUri: () => Promise<string>; fetch: OpFetch }): OpJwks {
  let current: KeySet | undefined
  let lastUnknownKeyRefetch: number | undefined
  const refetch = retryGate(async () => {
    const response = await options.fetch(await options.jwksUri(), { method: 'GET', body: undefined, headers: { accept: 'application/jwk-set+json, application/json' }, redirect: 'manual' })
    current = await readJwks(response)
    return current
  })

  const isFresh = (set: KeySet | undefined, now: number): set is KeySet => set !== undefined && now >= set.fetchedAt && now - set.fetchedAt < JWKS_MAX_AGE_MS
  const mayRefetchForUnknownKey = (now: number) =>
    lastUnknownKeyRefetch === undefined || now < lastUnknownKeyRefetch || now - lastUnknownKeyRefetch >= UNKNOWN_KID_REFETCH_MS

  return {
    async key(protectedHeader, token) {
      const before = current
      const set = isFresh(before, Date.now()) ? before : await refetch.run()
      try {
        return await set.select(protectedHeader, token)
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey)) throw err
        // A newer set arrived meanwhile, or is on its way: use that one.
        if (current !== set) return current!.select(protectedHeader, token)
        if (refetch.busy) return (await refetch.run()).select(protectedHeader, token)
        // Fetched for this very token already: asking again at once would answer the same.
        if (set !== before) throw err
        const now = Date.now()
        if (!mayRefetchForUnknownKey(now)) throw err
        lastUnknownKeyRefetch = now
        return (await refetch.run()).select(protectedHeader, token)
      }
    },
  }
}
