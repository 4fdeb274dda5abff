// FAPI mode of the example app (`npm start -- --fapi`, or EXAMPLE_FAPI=1 npm start): the local OP
// in the FAPI 2.0 configuration of its certification setup (features.fapi profile '2.0', PAR
// required, PS256, DPoP-bound tokens with server nonces required), and the app as a FAPI 2.0
// client: private_key_jwt with a PS256 key and DPoP, so each login gets its own key pair and
// the tokens are bound to it (the home page says so).
//
// Both run on http://localhost so that a browser shows the login without certificate warnings.
// That is why `profile: 'fapi2-security'` is not set here: the preset refuses http: URLs. With
// https URLs (and a certificate the browser trusts), add it: nothing else changes. The tests run
// the preset against this OP configuration over HTTPS (test/fapi/).
import { randomBytes } from 'node:crypto'
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose'

export const JWKS_PATH = '/.well-known/jwks.json'
export const FAPI_ALG = 'PS256'

/**
 * The OP side and the app side of a private_key_jwt + DPoP client, FAPI 2.0 style.
 *
 * @param {object} options
 * @param {string} options.baseURL the app's origin
 * @param {string} options.clientID
 * @returns {Promise<{ client: object, opFeatures: object, opConfiguration: object, loopbackCalls: string[], auth: import('express-par').AuthOptions, opSigningAlg: string }>}
 */
export async function fapiSetup({ baseURL, clientID }) {
  const privateKey = await exportPKCS8((await generateKeyPair(FAPI_ALG, { extractable: true })).privateKey)
  const jwksUri = `${baseURL}${JWKS_PATH}`
  // The OP signs ID tokens with PS256 (FAPI 2.0 permits PS256, ES256 and EdDSA).
  const opKey = { ...(await exportJWK((await generateKeyPair(FAPI_ALG, { extractable: true })).privateKey)), alg: FAPI_ALG, use: 'sig', kid: 'local-op-fapi-1' }
  return {
    client: {
      client_id: clientID,
      redirect_uris: [`${baseURL}/callback`],
      post_logout_redirect_uris: [`${baseURL}/`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: FAPI_ALG,
      id_token_signed_response_alg: FAPI_ALG,
      dpop_bound_access_tokens: true,
      jwks_uri: jwksUri,
    },
    opFeatures: {
      fapi: { enabled: true, profile: '2.0' },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    },
    opConfiguration: {
      jwks: { keys: [opKey] },
      clientAuthMethods: ['private_key_jwt'],
      enabledJWA: {
        idTokenSigningAlgValues: [FAPI_ALG],
        clientAuthSigningAlgValues: [FAPI_ALG],
        dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256'],
      },
    },
    // The OP fetches the app's jwks_uri on this machine (see startLocalOP's loopbackCalls).
    loopbackCalls: [jwksUri],
    // What the OP signs with (ID tokens, and authorization responses with --jarm).
    opSigningAlg: FAPI_ALG,
    auth: {
      baseURL,
      clientID,
      clientAssertionSigningKey: privateKey,
      clientAssertionSigningAlg: FAPI_ALG,
      dpop: true,
      routes: { jwks: JWKS_PATH },
    },
  }
}
