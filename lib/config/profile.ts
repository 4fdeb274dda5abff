/**
 * `profile: 'fapi2-security'`: the FAPI 2.0 Security Profile (final) as a preset. `auth()` refuses
 * whatever the profile forbids a client, naming the rule, and turns on what it requires beyond
 * express-par's defaults (PAR, PKCE S256, a 43-character nonce, RSA >= 2048 bits and P-256 or
 * larger curves are always on):
 *
 * - `https`: https issuer and base URL, no `allowInsecureRequests`;
 * - `sender-constrained tokens`: `dpop` or `mtls`;
 * - `client authentication`: `private_key_jwt`, `tls_client_auth` or `self_signed_tls_client_auth`;
 *   no client secret;
 * - `algorithms`: PS256, ES256 or EdDSA for our signatures and for the OP's ID tokens (and, with
 *   JARM, its authorization responses);
 * - `key sizes`: RSA >= 2048 bits, EC >= 224 bits, the TLS client key included;
 * - `iss parameter`: the authorization response's `iss` (RFC 9207) is required even from an OP
 *   that does not advertise `authorization_response_iss_parameter_supported`.
 *
 * `profile: 'fapi2-message-signing'`: FAPI 2.0 Message Signing (final), which is every rule above
 * and two more:
 *
 * - `signed authorization requests` (§5.3): JAR, so `requestObjectSigningKey` is required; the
 *   request object (openid-client's) carries `aud` = the issuer, `nbf`, and `exp` 60 s after `nbf`
 *   (the profile's limit is 60 minutes);
 * - `signed authorization responses` (§5.4): JARM, so `responseMode: 'jwt'` is required.
 */

import { decodeProtectedHeader } from 'jose'
import { parError } from '../errors.js'
import type { ClientAuthConfig } from '../op/client-auth.js'
import type { DPoPConfig } from '../op/dpop.js'
import type { SigningAlg, SigningKey } from '../op/keys.js'
import type { MtlsConfig } from '../op/mtls.js'
import type { ResponseMode } from '../op/jarm.js'
import { configError, invalid } from './checks.js'
import { printableList } from '../op/op-errors.js'

/** The JWS algorithms FAPI 2.0 permits (EdDSA with Ed25519). */
export const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA'] as const

export const PROFILES = ['fapi2-security', 'fapi2-message-signing'] as const
export type ProfileName = (typeof PROFILES)[number]

/** What a configured profile changes at run time. */
export interface ProfileConfig {
  readonly name: ProfileName
  /** The algorithms the OP's ID tokens may be signed with. */
  readonly idTokenAlgs: readonly string[]
  /** The algorithms the OP's JARM responses may be signed with. */
  readonly responseAlgs: readonly string[]
  /** The authorization response must carry `iss` whatever the OP's metadata says. */
  readonly requireIssuerParameter: true
}

/** The parts of the configuration the profile rules read (and may narrow). */
export interface ProfiledParts {
  issuer: URL
  baseURL: URL
  allowInsecureRequests: boolean
  clientSecretGiven: boolean
  clientAuth: ClientAuthConfig
  requestObjectKey: SigningKey | undefined
  dpop: DPoPConfig | undefined
  mtls: MtlsConfig | undefined
  responseMode: ResponseMode
}

const TITLES: Record<ProfileName, string> = {
  'fapi2-security': 'FAPI 2.0 Security Profile',
  'fapi2-message-signing': 'FAPI 2.0 Message Signing, which includes the Security Profile',
}

/** A refusal of `profile`'s `rule` (the Security Profile's rules name the profile the app configured). */
function refuse(profile: ProfileName, rule: string, message: string): never {
  throw configError(`\`profile: '${profile}'\` (${TITLES[profile]}), rule "${rule}": ${message}`)
}

/** A key narrowed to the FAPI algorithms, or a refusal naming it. */
function fapiKey(name: ProfileName, key: SigningKey): SigningKey {
  const algs = key.algs.filter((alg): alg is SigningAlg => (FAPI2_ALGS as readonly string[]).includes(alg))
  if (algs.length === 0) {
    refuse(
      name,
      'algorithms',
      `\`${key.option}\` is ${key.description} signing with ${key.algs.join(' or ')}; FAPI 2.0 permits only ${FAPI2_ALGS.join(', ')}. ` +
        `Use an RSA key with PS256, an EC P-256 key (ES256) or an Ed25519 key (EdDSA), and set \`${key.algOption}\` accordingly (\`npx express-par keygen --fapi\`).`,
    )
  }
  return algs.length === key.algs.length ? key : Object.freeze({ ...key, algs: Object.freeze(algs) })
}

function checkTlsKeySize(name: ProfileName, mtls: MtlsConfig): void {
  const { asymmetricKeyType: type, asymmetricKeyDetails: details = {} } = mtls.certificate.publicKey
  if (type === 'rsa' || type === 'rsa-pss') {
    if ((details.modulusLength ?? 0) < 2048) refuse(name, 'key sizes', `\`mtls.cert\` has an RSA ${details.modulusLength}-bit key; FAPI 2.0 needs at least 2048 bits.`)
  } else if (type === 'ec') {
    const bits: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp224r1: 224, prime192v1: 192, secp256k1: 256 }
    if ((bits[details.namedCurve ?? ''] ?? 0) < 224) refuse(name, 'key sizes', `\`mtls.cert\` has an EC key on ${details.namedCurve}; FAPI 2.0 needs a curve of at least 224 bits.`)
  }
}

/**
 * Checks the `profile` option and applies its rules to the other options. Returns the profile's
 * run-time settings and the signing keys narrowed to the algorithms it permits. Throws
 * `ERR_CONFIG_INVALID` naming the rule.
 */
export function checkProfile(value: unknown, parts: ProfiledParts): { profile: ProfileConfig | undefined; clientAuth: ClientAuthConfig; requestObjectKey: SigningKey | undefined } {
  if (value === undefined) return { profile: undefined, clientAuth: parts.clientAuth, requestObjectKey: parts.requestObjectKey }
  if (!(PROFILES as readonly unknown[]).includes(value)) invalid(`\`profile\` must be ${PROFILES.map((p) => `'${p}'`).join(' or ')}, got ${JSON.stringify(value) ?? typeof value}.`)
  const name = value as ProfileName
  const secured = checkSecurityProfile(name, parts)
  if (name === 'fapi2-message-signing') checkMessageSigning(name, parts)
  return { profile: Object.freeze({ name, idTokenAlgs: FAPI2_ALGS, responseAlgs: FAPI2_ALGS, requireIssuerParameter: true }), ...secured }
}

/** The FAPI 2.0 Security Profile's rules (see the file comment). */
function checkSecurityProfile(name: ProfileName, parts: ProfiledParts): { clientAuth: ClientAuthConfig; requestObjectKey: SigningKey | undefined } {
  if (parts.issuer.protocol !== 'https:') refuse(name, 'https', `\`issuerBaseURL\` must be an https: URL, got ${parts.issuer.href}.`)
  if (parts.baseURL.protocol !== 'https:') refuse(name, 'https', `\`baseURL\` must be an https: URL, got ${parts.baseURL.href}.`)
  if (parts.allowInsecureRequests) refuse(name, 'https', '`allowInsecureRequests` would let the OP\'s metadata point endpoints at http:; remove it.')

  if (!parts.dpop && !parts.mtls) {
    refuse(name, 'sender-constrained tokens', 'tokens must be bound to the client: set `dpop: true` (RFC 9449) or `mtls: { cert, key }` (RFC 8705).')
  }

  const method = parts.clientAuth.method
  if (method !== 'private_key_jwt' && method !== 'tls_client_auth' && method !== 'self_signed_tls_client_auth') {
    refuse(name, 'client authentication', `\`clientAuthMethod\` is ${method}; FAPI 2.0 permits only private_key_jwt, tls_client_auth and self_signed_tls_client_auth (no shared secrets).`)
  }
  if (parts.clientSecretGiven) refuse(name, 'client authentication', '`clientSecret` is set; FAPI 2.0 clients authenticate with a key or a certificate, never a shared secret. Remove it.')

  if (parts.mtls) checkTlsKeySize(name, parts.mtls)
  const clientAuth = parts.clientAuth.key ? Object.freeze({ ...parts.clientAuth, key: fapiKey(name, parts.clientAuth.key) }) : parts.clientAuth
  const requestObjectKey = parts.requestObjectKey && fapiKey(name, parts.requestObjectKey)
  // DPoP's algorithms (ES256, EdDSA, PS256) are all FAPI algorithms.
  return { clientAuth, requestObjectKey }
}

/** FAPI 2.0 Message Signing's own rules, on top of the Security Profile's. */
function checkMessageSigning(name: ProfileName, parts: ProfiledParts): void {
  if (!parts.requestObjectKey) {
    refuse(
      name,
      'signed authorization requests',
      'every authorization request must be a signed request object (JAR, RFC 9101; FAPI 2.0 Message Signing §5.3): set `requestObjectSigningKey` (`npx express-par keygen --fapi`) and register its public key for the client at the OP.',
    )
  }
  if (parts.responseMode !== 'jwt') {
    refuse(
      name,
      'signed authorization responses',
      "the OP must sign its authorization responses (JARM; FAPI 2.0 Message Signing §5.4): set `responseMode: 'jwt'`, and register the client at the OP with authorization_signed_response_alg PS256 (or ES256, EdDSA).",
    )
  }
}

/** At discovery: the OP must be able to sign ID tokens with a FAPI algorithm. */
export function checkProfileAgainstOP(profile: ProfileConfig, server: { issuer: string; id_token_signing_alg_values_supported?: string[] }): void {
  const supported = server.id_token_signing_alg_values_supported
  if (!Array.isArray(supported) || supported.length === 0 || supported.some((alg) => profile.idTokenAlgs.includes(alg))) return
  refuse(
    profile.name,
    'algorithms',
    `the OP at ${server.issuer} signs ID tokens only with ${printableList(supported)} (id_token_signing_alg_values_supported); FAPI 2.0 permits ${profile.idTokenAlgs.join(', ')}. Register the client with id_token_signed_response_alg PS256, ES256 or EdDSA.`,
  )
}

/**
 * After openid-client verified the ID token (signature with an algorithm the OP advertises): the
 * algorithm must also be one the profile permits. Throws `ERR_ID_TOKEN_INVALID`.
 */
export function checkIdTokenAlg(profile: ProfileConfig | undefined, idToken: string): void {
  if (profile === undefined) return
  let alg: unknown
  try {
    alg = decodeProtectedHeader(idToken).alg
  } catch (err) {
    throw parError('ERR_ID_TOKEN_INVALID', 'The ID token\'s header cannot be read.', { cause: err })
  }
  if (typeof alg === 'string' && profile.idTokenAlgs.includes(alg)) return
  throw parError(
    'ERR_ID_TOKEN_INVALID',
    `The ID token is signed with ${typeof alg === 'string' && /^[A-Za-z0-9]{1,16}$/.test(alg) ? alg : '(unprintable)'}; \`profile: '${profile.name}'\` (rule "algorithms") accepts only ${profile.idTokenAlgs.join(', ')}. Register the client at the OP with id_token_signed_response_alg PS256, ES256 or EdDSA.`,
  )
}
