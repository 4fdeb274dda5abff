/**
 * The key pairs of DPoP logins (RFC 9449): made by openid-client, one per login, exported as JWK
 * so that they travel in the session, and turned back into WebCrypto keys for each proof.
 *
 * Importing an EC private JWK is the dearest step of a DPoP login (about 0.7 ms of a 2-core
 * machine's CPU, bench/PROFILE.md), and the callback, a refresh and every `req.oidc.fetch()` need
 * the keys again. So this process remembers the key pairs it made or imported last, by their
 * private value `d`: a session's record finds its own keys (the same `d` is the same key), on any
 * request this process serves; another instance imports once and remembers too. The keys are no
 * more exposed than in the session store, which holds them as JWK.
 */

import * as client from 'openid-client'
import { exportJWK, importJWK } from 'jose'
import type { DPoPConfig, DPoPKeyRecord } from './dpop.js'

/** How many key pairs a process remembers (about 1 KB each); the oldest is forgotten first. */
const REMEMBERED_KEY_PAIRS = 1000

const remembered = new Map<string, CryptoKeyPair>()

function remember(d: string, keyPair: CryptoKeyPair): void {
  remembered.delete(d)
  if (remembered.size >= REMEMBERED_KEY_PAIRS) remembered.delete(remembered.keys().next().value!)
  remembered.set(d, keyPair)
}

/** WebCrypto's name for the algorithm (an EdDSA proof is signed with an Ed25519 key). */
function cryptoAlg(alg: string): string {
  return alg === 'EdDSA' ? 'Ed25519' : alg
}

/** A new key pair for one login, made by openid-client and exported as JWK for the session. */
export async function newDPoPKey(dpop: DPoPConfig): Promise<DPoPKeyRecord> {
  const keyPair = await client.randomDPoPKeyPair(cryptoAlg(dpop.alg), { extractable: true })
  const [privateJwk, publicJwk] = await Promise.all([exportJWK(keyPair.privateKey), exportJWK(keyPair.publicKey)])
  remember(privateJwk.d!, keyPair)
  return { alg: dpop.alg, privateJwk, publicJwk }
}

/** The WebCrypto key pair of a stored record: remembered, or imported (and then remembered). */
export async function keyPairOf(record: DPoPKeyRecord): Promise<CryptoKeyPair> {
  const d = record.privateJwk.d
  const known = typeof d === 'string' ? remembered.get(d) : undefined
  if (known !== undefined) return known
  const alg = cryptoAlg(record.alg)
  const [privateKey, publicKey] = (await Promise.all([
    importJWK(record.privateJwk, alg, { extractable: false }),
    importJWK(record.publicJwk, alg, { extractable: true }),
  ])) as [CryptoKey, CryptoKey]
  const keyPair = { privateKey, publicKey }
  if (typeof d === 'string') remember(d, keyPair)
  return keyPair
}
