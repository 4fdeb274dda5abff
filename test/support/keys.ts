/** Test keys: one key pair given to express-par in each format it accepts. */

import { KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose'
import type { SigningKeyInput } from 'express-par'

export type KeyFormat = 'JWK' | 'PEM' | 'KeyObject' | 'CryptoKey'
export const KEY_FORMATS: KeyFormat[] = ['JWK', 'PEM', 'KeyObject', 'CryptoKey']

export interface TestKey {
  alg: string
  privateKey: CryptoKey
  /** The public JWK to register at the OP, with its RFC 7638 thumbprint as `kid`. */
  publicJwk: JWK & { kid: string }
}

/** A fresh key pair for `alg`; `generateKeyPair('EdDSA')` makes an Ed25519 key. */
export async function testKey(alg: string, options: { kid?: string } = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' && { crv: 'Ed25519' }) })
  const jwk = await exportJWK(publicKey)
  return { alg, privateKey, publicJwk: { ...jwk, kid: options.kid ?? (await calculateJwkThumbprint(jwk)) } }
}

/** The private key in `format`, as an app would pass it to `auth()`. */
export async function inFormat(key: TestKey, format: KeyFormat): Promise<SigningKeyInput> {
  switch (format) {
    case 'JWK':
      return exportJWK(key.privateKey)
    case 'PEM':
      return exportPKCS8(key.privateKey)
    case 'KeyObject':
      return KeyObject.from(key.privateKey)
    case 'CryptoKey':
      return key.privateKey
  }
}
