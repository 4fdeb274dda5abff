/**
 * Signing keys for request objects (JAR, RFC 9101) and client assertions (`private_key_jwt`,
 * RFC 7523): accepted as a JWK, a PKCS#8 PEM string, a `KeyObject` or a `CryptoKey`, checked
 * once by `auth()` (synchronously, so a bad key throws before the app serves anything) and
 * imported once as non-extractable WebCrypto keys for openid-client. Nothing here signs.
 */

import { KeyObject, createPrivateKey, createPublicKey } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose'
import { modifyAssertion, type ModifyAssertionOptions } from 'openid-client'
import { configError } from '../config/checks.js'
import { printableList } from './op-errors.js'

/** Asymmetric JWS algorithms express-par signs with. */
export const SIGNING_ALGS = ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const
export type SigningAlg = (typeof SIGNING_ALGS)[number]

/** A private key as `auth()` accepts it. */
export type SigningKeyInput = JWK | string | KeyObject | CryptoKey

/** The key pair's public half, as published on `routes.jwks` and registered at the OP. */
export interface PublicJwk extends JWK {
  kid: string
  use: 'sig'
}

/** A private key and the CryptoKey for one algorithm, ready for openid-client. */
export interface KeyMaterial {
  readonly kid: string
  readonly publicJwk: PublicJwk
  /** The non-extractable CryptoKey to sign `alg` with (imported at start-up). */
  cryptoKey(alg: SigningAlg): CryptoKey
}

/** A configured signing key: checked, with its usable algorithms and its import under way. */
export interface SigningKey {
  /** The option it came from, e.g. `requestObjectSigningKey`. */
  readonly option: string
  /** The option that sets its algorithm, e.g. `requestObjectSigningAlg`. */
  readonly algOption: string
  /** Human-readable, e.g. `an RSA 2048-bit key`. */
  readonly description: string
  /** Algorithms it may sign with, most preferred first (one when the algorithm was configured). */
  readonly algs: readonly SigningAlg[]
  /** Resolves once the key is imported (started by `auth()`, shared by every request). */
  material(): Promise<KeyMaterial>
}

const KEYGEN_HINT = 'Generate one with `npx express-par keygen`.'

function isCryptoKey(value: unknown): value is CryptoKey {
  return typeof globalThis.CryptoKey === 'function' && value instanceof globalThis.CryptoKey
}

function isJwk(value: unknown): value is JWK {
  return typeof value === 'object' && value !== null && typeof (value as JWK).kty === 'string'
}

function toKeyObject(input: unknown, option: string): KeyObject {
  if (input instanceof KeyObject) return input
  if (isCryptoKey(input)) return KeyObject.from(input)
  if (typeof input === 'string') {
    if (!input.includes('-----BEGIN')) {
      throw configError(`\`${option}\` is a string but not a PEM private key ("-----BEGIN PRIVATE KEY-----"). ${KEYGEN_HINT}`)
    }
    if (/-----BEGIN (PUBLIC KEY|CERTIFICATE)/.test(input)) {
      throw configError(`\`${option}\` is a public key or certificate: configure the private key here and register its public half at the OP.`)
    }
    try {
      return createPrivateKey(input)
    } catch (err) {
      throw configError(`\`${option}\` is not a readable, unencrypted PKCS#8 PEM private key (${(err as Error).message}). ${KEYGEN_HINT}`, err)
    }
  }
  if (isJwk(input)) {
    if (input.use !== undefined && input.use !== 'sig') {
      throw configError(`\`${option}\` is a JWK for "use": ${JSON.stringify(input.use)}; a signing key has "use": "sig" (or none).`)
    }
    if (input.d === undefined) {
      throw configError(`\`${option}\` is a public JWK (no "d"): configure the private key here and register its public half at the OP.`)
    }
    try {
      return createPrivateKey({ key: input as import('node:crypto').JsonWebKey, format: 'jwk' })
    } catch (err) {
      throw configError(`\`${option}\` is not a usable private JWK (${(err as Error).message}). ${KEYGEN_HINT}`, err)
    }
  }
  throw configError(`\`${option}\` must be a private key: a JWK object, a PKCS#8 PEM string, a KeyObject or a CryptoKey. ${KEYGEN_HINT}`)
}

const CURVE_ALG: Record<string, SigningAlg> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
const CURVE_NAME: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

/** What the key is and which algorithms it can sign with, most preferred first. */
function keyKind(key: KeyObject, option: string): { description: string; usable: readonly SigningAlg[]; preferred: readonly SigningAlg[] } {
  if (key.type !== 'private') {
    throw configError(`\`${option}\` is a ${key.type} key: configure the private key here and register its public half at the OP.`)
  }
  const details = key.asymmetricKeyDetails ?? {}
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0
      if (bits < 2048) throw configError(`\`${option}\` is an RSA ${bits}-bit key: RSA keys must have at least 2048 bits. ${KEYGEN_HINT}`)
      return { description: `an RSA ${bits}-bit key`, usable: ['PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512'], preferred: ['PS256', 'RS256'] }
    }
    case 'ec': {
      const alg = CURVE_ALG[details.namedCurve ?? '']
      if (!alg) throw configError(`\`${option}\` is an EC key on curve ${details.namedCurve}: use P-256, P-384 or P-521. ${KEYGEN_HINT}`)
      return { description: `an EC ${CURVE_NAME[details.namedCurve!]} key`, usable: [alg], preferred: [alg] }
    }
    case 'ed25519':
      return { description: 'an Ed25519 key', usable: ['EdDSA', 'Ed25519'], preferred: ['EdDSA', 'Ed25519'] }
    default:
      throw configError(`\`${option}\` is a key of type ${key.asymmetricKeyType}: use an RSA (RS*/PS*), EC (ES256/ES384/ES512) or Ed25519 (EdDSA) key. ${KEYGEN_HINT}`)
  }
}

function checkAlg(value: unknown, algOption: string): SigningAlg {
  if (typeof value === 'string' && /^HS\d+$|^none$/i.test(value)) {
    throw configError(`\`${algOption}\` is ${value}: express-par signs with asymmetric keys only (${SIGNING_ALGS.join(', ')}).`)
  }
  if (!SIGNING_ALGS.includes(value as SigningAlg)) {
    throw configError(`\`${algOption}\` must be one of ${SIGNING_ALGS.join(', ')}, got ${JSON.stringify(value)}.`)
  }
  return value as SigningAlg
}

/** The algorithm WebCrypto imports the key for (EdDSA and Ed25519 share one Ed25519 CryptoKey). */
function importAlg(alg: SigningAlg): SigningAlg {
  return alg === 'EdDSA' ? 'Ed25519' : alg
}

async function importMaterial(key: KeyObject, algs: readonly SigningAlg[], inputKid: string | undefined, onlyAlg: SigningAlg | undefined): Promise<KeyMaterial> {
  const privateJwk = key.export({ format: 'jwk' }) as JWK
  const cryptoKeys = new Map<SigningAlg, CryptoKey>()
  for (const alg of new Set(algs.map(importAlg))) {
    cryptoKeys.set(alg, (await importJWK({ ...privateJwk, alg: undefined, key_ops: undefined }, alg, { extractable: false })) as CryptoKey)
  }
  const publicJwk = await exportJWK(createPublicKey(key))
  const kid = inputKid ?? (await calculateJwkThumbprint(publicJwk))
  return Object.freeze({
    kid,
    publicJwk: Object.freeze({ ...publicJwk, kid, use: 'sig' as const, ...(onlyAlg && { alg: onlyAlg }) }),
    cryptoKey(alg: SigningAlg): CryptoKey {
      const cryptoKey = cryptoKeys.get(importAlg(alg))
      if (!cryptoKey) throw configError(`the key of ${alg} was not imported (internal error).`)
      return cryptoKey
    },
  })
}

export interface LoadKeyOptions {
  /** Name of the key option, for messages. */
  option: string
  /** Name of the algorithm option, for messages. */
  algOption: string
  /** The configured algorithm, if any. */
  alg?: unknown
  /** The configured key id, if any (otherwise the JWK's `kid`, otherwise its RFC 7638 thumbprint). */
  kid?: unknown
  kidOption?: string
}

/**
 * Checks a configured private key and starts its import. Throws `ERR_CONFIG_INVALID` naming the
 * option when the key is not a usable private key or does not fit the configured algorithm.
 */
export function loadSigningKey(input: unknown, options: LoadKeyOptions): SigningKey {
  const { option, algOption } = options
  const keyObject = toKeyObject(input, option)
  const { description, usable, preferred } = keyKind(keyObject, option)

  const jwkAlg = isJwk(input) && typeof input.alg === 'string' ? input.alg : undefined
  let fixedAlg: SigningAlg | undefined
  if (options.alg !== undefined) fixedAlg = checkAlg(options.alg, algOption)
  if (jwkAlg !== undefined) {
    const alg = checkAlg(jwkAlg, `${option}.alg`)
    if (fixedAlg !== undefined && fixedAlg !== alg) throw configError(`\`${algOption}\` is ${fixedAlg} but the JWK in \`${option}\` says "alg": "${alg}"; make them agree.`)
    fixedAlg = alg
  }
  if (fixedAlg !== undefined && !usable.includes(fixedAlg)) {
    throw configError(`\`${algOption}\` is ${fixedAlg} but \`${option}\` is ${description}, which signs with ${usable.join(', ')}.`)
  }
  const algs = fixedAlg ? [fixedAlg] : preferred

  if (options.kid !== undefined && (typeof options.kid !== 'string' || options.kid === '')) {
    throw configError(`\`${options.kidOption}\` must be a non-empty string.`)
  }
  const inputKid = (options.kid as string | undefined) ?? (isJwk(input) && typeof input.kid === 'string' && input.kid ? input.kid : undefined)

  const imported = importMaterial(keyObject, algs, inputKid, algs.length === 1 ? algs[0] : undefined).catch((err: unknown) => {
    throw configError(`\`${option}\` could not be imported for ${algs.join('/')} (${(err as Error).message}).`, err)
  })
  imported.catch(() => {}) // reported when first used, not as an unhandled rejection
  return Object.freeze({ option, algOption, description, algs: Object.freeze([...algs]), material: () => imported })
}

/**
 * Picks the algorithm to sign with: the key's most preferred one that the OP lists in
 * `metadataName` (any of them when the OP lists none). A key the OP cannot accept is a
 * configuration error naming both sides.
 */
export function chooseAlg(key: SigningKey, supported: unknown, metadataName: string, issuer: string): SigningAlg {
  if (!Array.isArray(supported) || supported.length === 0) return key.algs[0]!
  const alg = key.algs.find((candidate) => supported.includes(candidate))
  if (alg) return alg
  throw configError(
    `\`${key.option}\` is ${key.description} signing with ${key.algs.join(' or ')}, but the OP at ${issuer} accepts only ${printableList(supported)} (${metadataName}). ` +
      `Use a key the OP accepts (\`npx express-par keygen --alg ${supported.find((a) => SIGNING_ALGS.includes(a)) ?? 'PS256'}\`) or set \`${key.algOption}\`.`,
  )
}

/**
 * openid-client derives the JWS `alg` from the CryptoKey and names Ed25519 signatures `Ed25519`
 * (RFC 9864); this renames them `EdDSA` when that is the algorithm agreed with the OP.
 */
export function assertionOptions(alg: SigningAlg): ModifyAssertionOptions | undefined {
  if (alg !== 'EdDSA') return undefined
  return {
    [modifyAssertion]: (header) => {
      header.alg = 'EdDSA'
    },
  }
}
