/**
 * ID token claims a strict relying party must refuse, as a table shared by the hostile suites
 * (test/integration/hostile-id-token.test.ts) and the FAPI 2.0 conformance cases
 * (test/fapi/conformance.test.ts, which runs the FAPI2SPFinalClientTest* rows for each variant).
 * Each row: a name, its source (conformance suite module, spec section), and the change to the
 * valid claims.
 */

import { HOSTILE_CLIENT_ID } from './hostile-op.js'

export type Claims = Record<string, unknown>
const now = () => Math.floor(Date.now() / 1000)

export const ID_TOKEN_CLAIM_CASES: Array<[string, string, (claims: Claims) => Claims]> = [
  ['iss of another issuer', 'rp-id_token-issuer-mismatch; FAPI2SPFinalClientTestInvalidIss', (c) => ({ ...c, iss: 'https://evil.example' })],
  ['no iss', 'FAPI2SPFinalClientTestInvalidMissingIss', ({ iss: _, ...c }) => c],
  ['aud of another client', 'rp-id_token-aud; FAPI2SPFinalClientTestInvalidAud', (c) => ({ ...c, aud: 'another-client' })],
  ['no aud', 'FAPI2SPFinalClientTestInvalidMissingAud', ({ aud: _, ...c }) => c],
  ['aud array with an untrusted extra audience and no azp', 'FAPI2SPFinalClientTestInvalidSecondaryAud; Core §3.1.3.7 #3-4', (c) => ({ ...c, aud: [HOSTILE_CLIENT_ID, 'another-client'] })],
  ['aud array whose azp names another client', 'Core §3.1.3.7 #5', (c) => ({ ...c, aud: [HOSTILE_CLIENT_ID, 'another-client'], azp: 'another-client' })],
  ['aud [this client] with azp naming another client', 'Core §3.1.3.7 #5: when azp is present, it is this client', (c) => ({ ...c, aud: [HOSTILE_CLIENT_ID], azp: 'another-client' })],
  ['aud this client with azp naming another client', 'Core §3.1.3.7 #5', (c) => ({ ...c, azp: 'another-client' })],
  ['exp in the past beyond clockTolerance', 'FAPI2SPFinalClientTestInvalidExpiredExp; Core §3.1.3.7 #9', (c) => ({ ...c, iat: now() - 600, exp: now() - 120 })],
  ['no exp', 'FAPI2SPFinalClientTestInvalidMissingExp', ({ exp: _, ...c }) => c],
  ['exp that is not a number', 'RFC 7519 §4.1.4', (c) => ({ ...c, exp: String(now() + 300) })],
  ['no iat', 'rp-id_token-iat (OIDCCClientTestMissingIatInIdToken)', ({ iat: _, ...c }) => c],
  ['iat in the future beyond clockTolerance', 'Core §3.1.3.7 #10', (c) => ({ ...c, iat: now() + 600, exp: now() + 900 })],
  ['nbf in the future beyond clockTolerance', 'RFC 7519 §4.1.5', (c) => ({ ...c, nbf: now() + 600 })],
  ['another nonce', 'rp-nonce-invalid; FAPI2SPFinalClientTestInvalidNonce', (c) => ({ ...c, nonce: 'attacker-nonce' })],
  ['no nonce', 'FAPI2SPFinalClientTestInvalidMissingNonce; Core §3.1.3.7 #11', ({ nonce: _, ...c }) => c],
  ['no sub', 'rp-id_token-sub (OIDCCClientTestMissingSubInIdToken)', ({ sub: _, ...c }) => c],
  ['sub that is not a string', 'Core §2', (c) => ({ ...c, sub: 42 })],
]
/** The rows that reproduce a FAPI 2.0 Security Profile client test module. */
export const FAPI2_ID_TOKEN_CLAIM_CASES = ID_TOKEN_CLAIM_CASES.filter(([, source]) => source.includes('FAPI2SPFinalClientTest'))
