/**
 * DPoP (RFC 9449) key pairs as they travel in the session: a login's key pair, exported as JWK
 * (the private half lives only in the session store, never in a cookie), turned back into the
 * proof handle openid-client signs with. Proofs, nonces and `ath` are openid-client's.
 */

import * as client from 'openid-client'
import { importJWK, type JWK } from 'jose'

/** A DPoP key pair as stored in the session. */
export interface DPoPKeyRecord {
  /** The JWS algorithm of the proofs (ES256, EdDSA or PS256). */
  alg: string
  /** The private key, as a JWK. */
  privateJwk: JWK
  /** The public key, as a JWK: what the OP binds the tokens to (its thumbprint is `jkt`). */
  publicJwk: JWK
}

/** openid-client's options for a call with the login's DPoP key, or none without one. */
export async function dpopOptions(op: client.Configuration, record: DPoPKeyRecord | undefined): Promise<{ DPoP?: client.DPoPHandle }> {
  if (record === undefined) return {}
  const importAlg = record.alg === 'EdDSA' ? 'Ed25519' : record.alg
  const privateKey = (await importJWK(record.privateJwk, importAlg, { extractable: false })) as CryptoKey
  const publicKey = (await importJWK(record.publicJwk, importAlg, { extractable: true })) as CryptoKey
  return { DPoP: client.getDPoPHandle(op, { privateKey, publicKey }) }
}
