/**
 * JARM (JWT Secured Authorization Response Mode; FAPI 2.0 Message Signing §5.4): with
 * `responseMode: 'jwt'` the pushed request asks for `response_mode=jwt`, and the OP sends the
 * browser back with nothing but `response=<JWT>`, the authorization response signed by the OP.
 *
 * - {@link jarmState}: the `state` inside the JWT, decoded *without* trusting it, only to find the
 *   pending login, which the callback spends before any check can fail;
 * - {@link verifyJarmResponse}: jose verifies the signature against the OP's keys of `jwks.ts`
 *   (the one key and refetch policy of every JWT from the OP) with only the asymmetric algorithms
 *   the OP advertises for authorization responses (`authorization_signing_alg_values_supported`,
 *   RS256 when it lists none: never `none`, never HMAC), and checks `iss`, `aud` = the client ID,
 *   `exp` (required) and `nbf` within `clockTolerance`, and `typ` (absent or `JWT`). It hands back
 *   the verified parameters, which the callback gives oauth4webapi's `validateAuthResponse` for
 *   `state`, RFC 9207 `iss` and `error`, as oauth4webapi's own `validateJwtAuthResponse` does after
 *   its checks (that one would verify against oauth4webapi's JWKS cache, with another refetch policy).
 *
 * Messages never quote the JWT or its claims: it is attacker input until its signature verified.
 */

import type * as client from 'openid-client'
import { decodeJwt, errors, jwtVerify, type JWTVerifyGetKey, type ProtectedHeaderParameters } from 'jose'
import { invalid } from '../config/checks.js'
import type { ProfileConfig } from '../config/profile.js'
import { ExpressParError, parError } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { SIGNING_ALGS } from './keys.js'
import { opError, printableList } from './op-errors.js'
import { opMetadata } from './metadata.js'

/** The `responseMode` option: the query response mode (default), or JARM. */
export const RESPONSE_MODES = ['query', 'jwt'] as const
export type ResponseMode = (typeof RESPONSE_MODES)[number]

/** Checks the `responseMode` option. Throws `ERR_CONFIG_INVALID`. */
export function checkResponseMode(value: unknown): ResponseMode {
  if (value === undefined) return 'query'
  if ((RESPONSE_MODES as readonly unknown[]).includes(value)) return value as ResponseMode
  const hint = typeof value === 'string' && /jwt/i.test(value) ? " For JARM, set `responseMode: 'jwt'`: the OP then answers in the query (JARM §2.3.4)." : ''
  invalid(`\`responseMode\` must be 'query' (the default) or 'jwt' (JARM: the OP signs its authorization responses), got ${JSON.stringify(value) ?? typeof value}.${hint}`)
}

type JarmServerMetadata = Pick<client.ServerMetadata, 'issuer' | 'response_modes_supported' | 'authorization_signing_alg_values_supported'>


/**
 * The algorithms a JARM response may be signed with: those the OP advertises for authorization
 * responses (RS256 when it lists none, JARM §2.1 / RFC 8414), asymmetric only, and with `profile`
 * only those the profile permits.
 */
export function jarmAlgorithms(server: Pick<JarmServerMetadata, 'authorization_signing_alg_values_supported'>, profile: ProfileConfig | undefined): string[] {
  const advertised = server.authorization_signing_alg_values_supported
  const algs = Array.isArray(advertised) && advertised.length > 0 ? advertised : ['RS256']
  return algs.filter((alg): alg is string => (SIGNING_ALGS as readonly unknown[]).includes(alg) && (profile === undefined || profile.responseAlgs.includes(alg)))
}

/**
 * At discovery, with `responseMode: 'jwt'`: the OP must offer JARM (`jwt` in
 * `response_modes_supported`) and sign with an algorithm express-par accepts. Throws
 * `ERR_CONFIG_INVALID` saying which, before any login reaches the OP.
 */
export function checkJarmAgainstOP(responseMode: ResponseMode, profile: ProfileConfig | undefined, server: JarmServerMetadata): void {
  if (responseMode !== 'jwt') return
  const modes = server.response_modes_supported
  if (!Array.isArray(modes) || !modes.includes('jwt')) {
    invalid(
      `\`responseMode: 'jwt'\` asks the OP to sign its authorization responses (JARM), but the OP at ${server.issuer} does not offer it: its response_modes_supported is ${printableList(modes)}, without "jwt"${Array.isArray(modes) ? '' : ' (absent means query and fragment only, OpenID Connect Discovery §3)'}. ` +
        'Enable JARM at the OP (oidc-provider: features.jwtResponseModes) and register the client for it, or remove `responseMode`.',
    )
  }
  if (jarmAlgorithms(server, profile).length === 0) {
    invalid(
      `\`responseMode: 'jwt'\`: the OP at ${server.issuer} signs authorization responses only with ${printableList(server.authorization_signing_alg_values_supported)} (authorization_signing_alg_values_supported), ` +
        `and express-par verifies only ${profile ? `${profile.responseAlgs.join(', ')} under \`profile: '${profile.name}'\`` : 'asymmetric signatures (RS, PS, ES, EdDSA)'}. Register the client with authorization_signed_response_alg ${profile ? 'PS256' : 'RS256 or PS256'}.`,
    )
  }
}

const notJarm = (why: string, cause?: unknown) =>
  parError('ERR_CALLBACK_INVALID', `The callback's JARM response ${why}. Start the login again.`, cause === undefined ? {} : { cause })

/**
 * The `state` inside the callback's JARM response, decoded without verifying anything: only to
 * find (and spend) the pending login it names. Throws `ERR_CALLBACK_INVALID` when there is no
 * single `response` that is a JWT with a `state` string (no pending login is then touched).
 */
export function jarmState(params: URLSearchParams): string {
  const responses = params.getAll('response')
  if (responses.length !== 1 || responses[0] === '') throw notJarm('is missing or given more than once (one `response` parameter, JARM §2.3.1)')
  const response = responses[0]!
  if (response.split('.').length === 5) throw notJarm('is encrypted (a JWE); express-par reads signed JARM responses only: register the client without authorization_encrypted_response_alg')
  let state: unknown
  try {
    ;({ state } = decodeJwt(response))
  } catch (err) {
    throw notJarm('is not a JWT', err)
  }
  if (typeof state !== 'string' || state === '') throw notJarm('has no `state` string inside')
  return state
}

/** What a JARM response is verified against. */
export interface JarmExpectations {
  /** The OP's issuer identifier, as its metadata states it. */
  issuer: string
  clientID: string
  /** See {@link jarmAlgorithms}. */
  algorithms: readonly string[]
  clockTolerance: number
  /** The OP's keys (`runtime.jwks.key`). */
  keys: JWTVerifyGetKey
  /** For the message when the OP's keys cannot be fetched in time. */
  httpTimeout: number
}

/** What the JARM responses of `runtime`'s logins are verified against, for the discovered `op`. */
export function jarmExpectations(runtime: Runtime, op: client.Configuration): JarmExpectations {
  const { config } = runtime
  const server = opMetadata(op)
  return {
    issuer: server.issuer,
    clientID: config.clientID,
    algorithms: jarmAlgorithms(server, config.profile),
    clockTolerance: config.clockTolerance,
    keys: runtime.jwks.key,
    httpTimeout: config.httpTimeout,
  }
}

/** Authorization response parameters that, under JARM, travel only inside the signed JWT. */
const INSIDE_ONLY = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'id_token', 'access_token', 'token_type'] as const

const refused = (why: string, cause?: unknown) =>
  parError('ERR_JARM_INVALID', `The callback's JARM response (the OP's signed authorization response) ${why}; the login is refused and its code is not redeemed. Start the login again.`, cause === undefined ? {} : { cause })

/** jose's verdicts as express-par errors: which check failed, without the token's own text. */
function joseFailure(err: unknown, expected: JarmExpectations): ExpressParError {
  if (err instanceof ExpressParError) return err
  if (err instanceof errors.JWTExpired) return refused(`has expired (its exp is past, beyond clockTolerance ${expected.clockTolerance} s)`, err)
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'iss') {
      return parError(
        'ERR_ISSUER_MISMATCH',
        `The callback's JARM response has no iss, or names another issuer than ${expected.issuer} (JARM §4.4, RFC 9207). This can be a mix-up attack; the login is refused and its code is not redeemed.`,
        { cause: err },
      )
    }
    if (err.claim === 'aud') return refused(`has no aud, or one that does not name this client (it must be the client ID ${expected.clientID})`, err)
    if (err.claim === 'exp') return refused('has no exp (JARM §2.1 requires one)', err)
    if (err.claim === 'nbf') return refused(`is not valid yet (its nbf is in the future, beyond clockTolerance ${expected.clockTolerance} s)`, err)
    return refused('has a claim of the wrong type', err)
  }
  if (err instanceof errors.JOSEAlgNotAllowed) {
    return refused(`is not signed with an algorithm the OP advertises for authorization responses that express-par accepts (${expected.algorithms.join(', ') || 'none'}; never none or HMAC)`, err)
  }
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWKSMultipleMatchingKeys) return refused("names no key of the OP's JWKS (unknown kid, or no single key fits)", err)
  if (err instanceof errors.JWSSignatureVerificationFailed) return refused("has a signature that does not verify with the OP's key", err)
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) return refused('is not a signed JWT express-par can read', err)
  if (err instanceof errors.JOSEError) return refused('could not be verified (see err.cause)', err)
  // The OP's keys could not be fetched: timeout, size, network, not a JWK Set.
  return opError(err, 'jwks', expected.httpTimeout, { verifying: 'the JARM response' })
}

/** `typ`, when present, must be `JWT` (RFC 7515 §4.1.9): a JWT typed as another kind of token is not an authorization response. */
function checkType(header: ProtectedHeaderParameters): void {
  if (header.typ === undefined) return
  if (typeof header.typ === 'string' && /^(application\/)?jwt$/i.test(header.typ)) return
  throw refused('has a "typ" header other than JWT (a token of another kind, RFC 8725 §3.11)')
}

/**
 * Verifies the callback's JARM response (see the file comment) and returns the authorization
 * response parameters it carries (its string claims but `aud`), for `validateAuthResponse`.
 * Throws `ERR_CALLBACK_INVALID` for a callback that is not a lone JARM response (a plain `code=`
 * callback, or protocol parameters outside the JWT), `ERR_ISSUER_MISMATCH` for `iss`, and
 * `ERR_JARM_INVALID` for any other failed check.
 *
 * @see JARM (OpenID Financial-grade API: JWT Secured Authorization Response Mode) §2.3.4, §4.4
 */
export async function verifyJarmResponse(params: URLSearchParams, expected: JarmExpectations): Promise<URLSearchParams> {
  if (!params.has('response')) {
    throw parError(
      'ERR_CALLBACK_INVALID',
      "The callback carries a plain authorization response, which nobody signed, but this login asked for a signed one (`responseMode: 'jwt'`, JARM): it is refused and its code is not redeemed. Start the login again; if the OP keeps answering so, enable JARM for this client at the OP.",
    )
  }
  const outside = INSIDE_ONLY.filter((name) => params.has(name))
  if (outside.length > 0) {
    throw parError(
      'ERR_CALLBACK_INVALID',
      `The callback carries ${outside.map((name) => `\`${name}\``).join(', ')} next to the JARM response; under JARM every authorization response parameter travels inside the signed JWT (JARM §2.3.4), so an unsigned one is refused. Start the login again.`,
    )
  }
  const response = params.get('response')!
  let verified: Awaited<ReturnType<typeof jwtVerify>>
  try {
    verified = await jwtVerify(response, expected.keys, {
      issuer: expected.issuer,
      audience: expected.clientID,
      algorithms: [...expected.algorithms],
      clockTolerance: expected.clockTolerance,
      requiredClaims: ['exp'],
    })
  } catch (err) {
    throw joseFailure(err, expected)
  }
  checkType(verified.protectedHeader)
  const parameters = new URLSearchParams()
  for (const [name, value] of Object.entries(verified.payload)) {
    if (typeof value === 'string' && name !== 'aud') parameters.set(name, value)
  }
  return parameters
}
