/**
 * Translates what openid-client / oauth4webapi throw into express-par's errors: one place decides
 * which OP failure is the browser's fault (400), the OP's (502) or a timeout (504).
 */

import { AuthorizationResponseError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client'
import { ExpressParError, parError, type ErrorCode } from '../errors.js'
import { MAX_OP_RESPONSE_BYTES, OpInsecureRequest, OpResponseTooLarge } from './http.js'

/** The OP call an error came from. */
export type OpStep = 'discovery' | 'par' | 'token' | 'jwks'

const STEP_FAILURE: Record<OpStep, { code: ErrorCode; what: string; answer: string }> = {
  discovery: { code: 'ERR_DISCOVERY_FAILED', what: "discovery of the OP's metadata (the issuer's /.well-known/openid-configuration) failed", answer: 'discovery document' },
  par: { code: 'ERR_PAR_FAILED', what: 'the pushed authorization request (PAR, RFC 9126) failed', answer: 'PAR response' },
  token: { code: 'ERR_TOKEN_RESPONSE_INVALID', what: 'the token endpoint response is not valid', answer: 'token response' },
  jwks: { code: 'ERR_ID_TOKEN_INVALID', what: "the OP's signing keys (jwks_uri) could not be fetched, so the ID token's signature cannot be checked", answer: 'JWK Set' },
}

/** What the app sent, for the message (never anything the browser chose). */
export interface OpErrorContext {
  /** E.g. `client_id=app, redirect_uri=https://app.example.com/callback`. */
  sent?: string
  /** At the `jwks` step: what the keys were fetched to verify, when not an ID token (e.g. `the JARM response`). */
  verifying?: string
}

/** The message of anything error-shaped (errors from fetch come from another realm under test runners). */
function messageOf(err: unknown): string | undefined {
  const message = (err as { message?: unknown } | null)?.message
  return typeof message === 'string' && message !== '' ? message : undefined
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** `err` and the errors it wraps (openid-client wraps oauth4webapi's, which wrap fetch's, which wrap the socket's). */
function causeChain(err: unknown): unknown[] {
  const chain: unknown[] = []
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 8; e = (e as { cause?: unknown }).cause, depth++) chain.push(e)
  return chain
}

/** A timeout anywhere in the chain: a body that outlasts httpTimeout sits two levels down. */
function isTimeout(err: unknown): boolean {
  return causeChain(err).some((e) => errorCode(e) === 'OAUTH_TIMEOUT' || (e as { name?: unknown }).name === 'TimeoutError')
}

function findInChain<T>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  return causeChain(err).find((e): e is T => e instanceof type)
}

const ID_TOKEN_CODES = new Set(['OAUTH_JWT_CLAIM_COMPARISON_FAILED', 'OAUTH_JWT_TIMESTAMP_CHECK_FAILED', 'OAUTH_KEY_SELECTION_FAILED'])

/**
 * ID token problems openid-client finds: algorithm, claims and timestamps (the signature is
 * checked afterwards, in `id-token.ts`). openid-client's own message is generic ("invalid
 * response encountered"), so the wrapped errors are read too.
 */
function isIdTokenProblem(err: unknown): boolean {
  return causeChain(err).some((e) => {
    if (ID_TOKEN_CODES.has(errorCode(e) ?? '')) return true
    return /\bJW[TSEK]\b|ID Token|id_token/i.test(messageOf(e) ?? '')
  })
}

const NETWORK_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed by the other side',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
}

/** Codes of TLS failures (Node's and OpenSSL's), e.g. ERR_TLS_CERT_ALTNAME_INVALID, CERT_HAS_EXPIRED. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_)/

/**
 * Errors from the network below fetch: their messages name addresses and ports
 * ("connect ECONNREFUSED 10.0.3.7:8443", a certificate's host names), which stay in `cause` and
 * out of messages.
 */
function isNetworkError(e: unknown): boolean {
  const shaped = e as { syscall?: unknown; errno?: unknown; name?: unknown; message?: unknown } | null
  if (typeof shaped?.syscall === 'string' || typeof shaped?.errno === 'number') return true
  const code = errorCode(e) ?? ''
  if (Object.hasOwn(NETWORK_FAILURES, code) || code.startsWith('UND_ERR_') || TLS_CODE.test(code)) return true
  return shaped?.name === 'TypeError' && shaped.message === 'fetch failed'
}

/** The network failure in words, e.g. "connection refused", without addresses; `undefined` if none. */
function networkFailure(err: unknown): string | undefined {
  const codes = causeChain(err).map(errorCode).filter((code): code is string => code !== undefined)
  for (const code of codes) if (Object.hasOwn(NETWORK_FAILURES, code)) return NETWORK_FAILURES[code]
  const tls = codes.find((code) => TLS_CODE.test(code))
  if (tls) return `TLS handshake refused (${tls.replace(/[^A-Z0-9_]/g, '')})`
  return causeChain(err).some(isNetworkError) ? 'network error' : undefined
}

/**
 * The messages of `err` and the errors it wraps, e.g. "invalid response encountered: JWT "iss"
 * (issuer) claim missing". A JSON parser's message quotes the body the OP sent, and a network
 * error's names addresses, so both are left out (the latter said in words); angle brackets never
 * reach a message.
 */
function detail(err: unknown): string {
  const chain = causeChain(err)
  const messages = chain
    .filter((e) => (e as { name?: unknown } | null)?.name !== 'SyntaxError' && !isNetworkError(e))
    .map(messageOf)
    .filter((m): m is string => m !== undefined)
  const network = networkFailure(err)
  if (network) messages.push(network)
  return (messages.length > 0 ? [...new Set(messages)].join(': ') : 'unknown error').replace(/[<>]/g, '')
}

/** The OP could not be reached at all (connection refused or reset, DNS failure). */
function isUnreachable(err: unknown): boolean {
  return causeChain(err).some((e) => /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EPIPE|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET)$/.test(errorCode(e) ?? ''))
}

/** The OAuth error the OP answered with, from a JSON error body or a `WWW-Authenticate` challenge (RFC 6750 §3). */
function oauthErrorAnswer(err: unknown): { status: number; error: string; description?: string } | undefined {
  if (err instanceof ResponseBodyError) return { status: err.status, error: err.error, description: err.error_description }
  if (err instanceof WWWAuthenticateChallengeError) {
    const parameters = err.cause[0]?.parameters ?? {}
    return { status: err.status, error: parameters.error ?? 'unknown', description: parameters.error_description }
  }
  return undefined
}

/** Maps an error thrown while talking to the OP at `step` to an {@link ExpressParError}. */
export function opError(err: unknown, step: OpStep, timeoutMs: number, context: OpErrorContext = {}): ExpressParError {
  if (err instanceof ExpressParError) return err
  if (isTimeout(err)) {
    return parError('ERR_OP_TIMEOUT', `The OP did not answer within httpTimeout (${timeoutMs} ms) during ${step}. Check that the OP is reachable, or raise httpTimeout.`, {
      cause: err,
    })
  }
  const tooLarge = findInChain(err, OpResponseTooLarge)
  if (tooLarge) {
    const size = tooLarge.declared ? `${tooLarge.bytes} bytes (its Content-Length)` : `over ${MAX_OP_RESPONSE_BYTES} bytes (reading stopped at ${tooLarge.bytes})`
    return parError(
      STEP_FAILURE[step].code,
      `The OP's ${STEP_FAILURE[step].answer} is ${size}, above the 1 MB (${MAX_OP_RESPONSE_BYTES}-byte) limit on what express-par reads from an OP. No honest OP sends that much: check the OP, or what answers in its place.`,
      { cause: err },
    )
  }
  if (findInChain(err, OpInsecureRequest)) {
    return parError(STEP_FAILURE[step].code, `The OP's metadata names an http: URL for ${step}; only https: is used unless allowInsecureRequests is set (local development). Fix the OP's metadata.`, { cause: err })
  }
  if (step !== 'discovery' && isUnreachable(err)) {
    return parError('ERR_OP_UNREACHABLE', `The OP could not be reached during ${step} (${networkFailure(err)}). Check that the OP is up and reachable from this server.`, {
      cause: err,
    })
  }
  const answer = oauthErrorAnswer(err)
  if (answer) {
    const options = { cause: err, error: answer.error, errorDescription: answer.description }
    if (step === 'token' && answer.error === 'invalid_grant') {
      return parError('ERR_CODE_REJECTED', 'The OP refused the authorization code (invalid_grant): it was forged, already used or expired. Start a new login.', options)
    }
    const code: ErrorCode = step === 'token' ? 'ERR_TOKEN_REQUEST_FAILED' : STEP_FAILURE[step].code
    const what = step === 'token' ? 'The token request failed' : capitalised(STEP_FAILURE[step].what)
    // The PAR endpoint is the back channel: its error_description is the OP's, not the browser's.
    const reason = step === 'par' && answer.description ? `, saying "${sanitised(answer.description)}"` : ''
    const sent = context.sent ? ` Sent: ${context.sent}.` : ''
    return parError(code, `${what}: the OP answered HTTP ${answer.status} with error=${printable(answer.error)}${reason}.${sent} ${whatToCheck(answer.error)}`, options)
  }

  if (step === 'token' && isIdTokenProblem(err)) {
    return parError('ERR_ID_TOKEN_INVALID', `The ID token failed validation (${detail(err)}). The login is refused; check the OP's signing keys and clock.`, { cause: err })
  }
  const { code } = STEP_FAILURE[step]
  const what = step === 'jwks' && context.verifying ? `the OP's signing keys (jwks_uri) could not be fetched, so ${context.verifying} cannot be verified` : STEP_FAILURE[step].what
  return parError(code, `${capitalised(what)}: ${detail(err)}.`, { cause: err })
}

/** What a developer checks for an OAuth error the PAR or token endpoint answered with. */
function whatToCheck(error: string): string {
  if (error === 'invalid_dpop_proof' || error === 'use_dpop_nonce') {
    return 'The OP refused the DPoP proof (RFC 9449): check that it accepts `dpop.alg` (dpop_signing_alg_values_supported), that both clocks agree, and whether it requires server nonces without sending a DPoP-Nonce header.'
  }
  return 'Check the client registration at the OP (client_id, secret, redirect_uri).'
}

const capitalised = (text: string) => `${text[0]!.toUpperCase()}${text.slice(1)}`

/** Text from the OP's back channel for a message: printable ASCII without markup or double quotes, at most 200 characters. */
export function sanitised(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]+/g, ' ').replace(/[<>"`\\]/g, '').trim()
  return clean.length > 200 ? `${clean.slice(0, 200)}...` : clean
}

/**
 * A list from the OP's metadata (supported methods, algorithms, response modes), for a message:
 * its entries shaped like such names only, so that no markup the metadata carries reaches it.
 */
export function printableList(values: unknown): string {
  if (!Array.isArray(values)) return '(absent)'
  return values.filter((v): v is string => typeof v === 'string' && /^[\w.+:-]{1,64}$/.test(v)).join(', ') || '(nothing printable)'
}

/** A URL the OP stated, for a message: its serialised form (which escapes markup), or a placeholder. */
export function printableURL(value: unknown): string {
  if (typeof value !== 'string' || value.length > 500) return '(not a URL)'
  try {
    return new URL(value).href.replace(/[<>"'`]/g, '')
  } catch {
    return '(not a URL)'
  }
}

/** The callback's `error` is attacker-controlled: only an OAuth-shaped error code goes into a message. */
function printable(value: string): string {
  return /^[a-z0-9_]{1,64}$/i.test(value) ? value : '(unprintable, see err.error)'
}

/** Authorization error responses that report the OP's own failure rather than a refusal (RFC 6749 §4.1.2.1). */
const OP_FAILURES = new Set(['server_error', 'temporarily_unavailable'])

/** Maps an error from validating the authorization response (the callback's query). */
export function callbackResponseError(err: unknown): ExpressParError {
  if (err instanceof ExpressParError) return err
  if (err instanceof AuthorizationResponseError) {
    if (OP_FAILURES.has(err.error)) {
      return parError('ERR_OP_SERVER_ERROR', `The OP could not handle the login (error=${err.error}). It is failing or overloaded; try again later.`, {
        cause: err,
        error: err.error,
        errorDescription: err.error_description,
      })
    }
    return parError('ERR_LOGIN_REFUSED', `The OP refused the login (error=${printable(err.error)}). The user may have cancelled; offer to try again.`, {
      cause: err,
      error: err.error,
      errorDescription: err.error_description,
    })
  }
  const message = err instanceof Error ? err.message : String(err)
  if (message.includes('provided only once')) {
    return parError('ERR_CALLBACK_INVALID', `The callback's authorization response repeats a parameter (${message}); each must appear once (RFC 6749 §3.1).`, { cause: err })
  }
  if (message.includes('"iss"')) {
    return parError('ERR_ISSUER_MISMATCH', `The callback's iss parameter is missing or names another issuer (RFC 9207): ${message}. This can be a mix-up attack; the login is refused.`, { cause: err })
  }
  return parError('ERR_CALLBACK_INVALID', `The callback's authorization response is malformed: ${message}.`, { cause: err })
}
