/**
 * DPoP (RFC 9449): the `dpop` option, a fresh key pair per login (made by openid-client, exported
 * as JWK so that it travels in the session: the private half lives only in the session store,
 * never in a cookie), turned back into the proof handle openid-client signs with. Proofs, `ath`
 * and the one retry on a `use_dpop_nonce` challenge are openid-client's.
 *
 * Server nonces (RFC 9449 §8-9): an openid-client handle remembers the nonces it was given, per
 * origin, but only for its own life, and a login's handle is rebuilt from the session on every
 * request (the callback may even run on another instance). {@link DPoPNonces} keeps the latest
 * nonce each server sent, for the whole `auth()` instance, so that PAR, the token request and
 * resource calls send it at once instead of paying a refused request and a retry each time.
 */

import * as client from 'openid-client'
import type { JWK } from 'jose'
import { checkKeys, invalid } from '../config/checks.js'
import { parError } from '../errors.js'
import { printableList } from './op-errors.js'
import { keyPairOf } from './dpop-keys.js'

export { newDPoPKey } from './dpop-keys.js'

/** The JWS algorithms of DPoP proofs (FAPI 2.0 permits these three). */
export const DPOP_ALGS = ['ES256', 'EdDSA', 'PS256'] as const
export type DPoPAlg = (typeof DPOP_ALGS)[number]

/** The `dpop` option of `auth()`. */
export type DPoPOption = boolean | { alg?: DPoPAlg }

/** DPoP as configured: on, with the algorithm of every login's key. */
export interface DPoPConfig {
  readonly alg: DPoPAlg
}

/** A DPoP key pair as stored in the session. */
export interface DPoPKeyRecord {
  /** The JWS algorithm of the proofs (ES256, EdDSA or PS256). */
  alg: string
  /** The private key, as a JWK. */
  privateJwk: JWK
  /** The public key, as a JWK: what the OP binds the tokens to (its thumbprint is `jkt`). */
  publicJwk: JWK
}

/** Checks the `dpop` option: `true`, `false` or `{ alg }`. Throws `ERR_CONFIG_INVALID`. */
export function checkDPoP(value: unknown): DPoPConfig | undefined {
  if (value === undefined || value === false) return undefined
  if (value === true) return Object.freeze({ alg: 'ES256' })
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalid(`\`dpop\` must be true, false or { alg: ${DPOP_ALGS.map((a) => `'${a}'`).join(' | ')} }, got ${JSON.stringify(value)}.`)
  }
  checkKeys(value, ['alg'], 'dpop.')
  const alg = (value as { alg?: unknown }).alg ?? 'ES256'
  if (!DPOP_ALGS.includes(alg as DPoPAlg)) invalid(`\`dpop.alg\` must be one of ${DPOP_ALGS.join(', ')}, got ${JSON.stringify(alg)}.`)
  return Object.freeze({ alg: alg as DPoPAlg })
}

/** The OP must accept proofs of the configured algorithm (`dpop_signing_alg_values_supported`). */
export function checkDPoPAgainstOP(dpop: DPoPConfig, server: Pick<client.ServerMetadata, 'issuer' | 'dpop_signing_alg_values_supported'>): void {
  const supported = server.dpop_signing_alg_values_supported
  if (!Array.isArray(supported) || supported.length === 0 || supported.includes(dpop.alg)) return
  invalid(
    `\`dpop\` signs proofs with ${dpop.alg}, but the OP at ${server.issuer} accepts only ${printableList(supported)} (dpop_signing_alg_values_supported). ` +
      `Set \`dpop: { alg: '${supported.find((a) => DPOP_ALGS.includes(a as DPoPAlg)) ?? 'ES256'}' }\`.`,
  )
}

const MAX_ORIGINS = 100

/** The latest DPoP nonce each server (by origin) sent, for one `auth()` instance. */
export class DPoPNonces {
  readonly #byOrigin = new Map<string, string>()

  /** The nonce to send to `origin`, if one was seen. */
  get(origin: string): string | undefined {
    return this.#byOrigin.get(origin)
  }

  /** Records the `DPoP-Nonce` of a response from `url`. */
  remember(url: string, response: Response): void {
    const nonce = response.headers.get('dpop-nonce')
    if (!nonce) return
    const origin = new URL(url).origin
    this.#byOrigin.delete(origin)
    if (this.#byOrigin.size >= MAX_ORIGINS) this.#byOrigin.delete(this.#byOrigin.keys().next().value!)
    this.#byOrigin.set(origin, nonce)
  }

  /** `fetch` that records every response's nonce; openid-client calls the OP and resource servers through it. */
  observe(fetch: client.CustomFetch): client.CustomFetch {
    return async (url, options) => {
      const response = await fetch(url, options)
      this.remember(url, response)
      return response
    }
  }
}

const nonceMemory = new WeakMap<client.Configuration, DPoPNonces>()

/** Ties the nonce memory to the OP configuration whose fetch feeds it (discovery.ts). */
export function attachDPoPNonces(op: client.Configuration, nonces: DPoPNonces): void {
  nonceMemory.set(op, nonces)
}

/** openid-client's options for a call with the login's DPoP key, or none without one. */
export async function dpopOptions(op: client.Configuration, record: DPoPKeyRecord | undefined): Promise<{ DPoP?: client.DPoPHandle }> {
  if (record === undefined) return {}
  const keyPair = await keyPairOf(record)
  const nonces = nonceMemory.get(op)
  return {
    DPoP: client.getDPoPHandle(
      op,
      keyPair,
      {
        [client.modifyAssertion]: (header, payload) => {
          // openid-client names Ed25519 proofs `Ed25519` (RFC 9864); OPs list them as EdDSA.
          if (record.alg === 'EdDSA') header.alg = 'EdDSA'
          // The handle's own nonce (from a challenge it just answered) wins over the remembered one.
          if (payload.nonce === undefined && nonces !== undefined && typeof payload.htu === 'string') {
            const nonce = nonces.get(new URL(payload.htu).origin)
            if (nonce !== undefined) payload.nonce = nonce
          }
        },
      },
    ),
  }
}

/** The DPoP token type (RFC 9449 §5), compared case-insensitively as RFC 6749 §5.1 says. */
export function isDPoPTokenType(tokenType: unknown): boolean {
  return typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop'
}

/**
 * The downgrade check: a token request sent with a DPoP proof must get DPoP-bound tokens back
 * (RFC 9449 §5: `token_type: DPoP`). An OP that answers `Bearer` ignored the proof, so the tokens
 * would work for anyone who steals them; openid-client does not check this. Throws
 * `ERR_DPOP_DOWNGRADE` (nothing is stored).
 */
export function checkSenderConstraint(tokenType: unknown, dpopKey: DPoPKeyRecord | undefined, step: 'token' | 'refresh'): void {
  if (dpopKey === undefined || isDPoPTokenType(tokenType)) return
  throw parError(
    'ERR_DPOP_DOWNGRADE',
    `The OP answered the ${step === 'token' ? 'token request' : 'refresh'} (sent with a DPoP proof) with token_type ${JSON.stringify(printableTokenType(tokenType))} instead of DPoP (RFC 9449 §5): its tokens are not bound to the key, so they are refused and nothing is stored. ` +
      'Register the client at the OP with dpop_bound_access_tokens: true (or turn `dpop` off).',
  )
}

function printableTokenType(value: unknown): string {
  return typeof value === 'string' && /^[A-Za-z0-9_.-]{1,32}$/.test(value) ? value : '(unprintable)'
}
