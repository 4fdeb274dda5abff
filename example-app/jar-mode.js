// JAR mode of the example app (`npm start -- --jar`, or EXAMPLE_JAR=1 npm start): the strictest
// setup, as banking, health and government OPs have it. The client authenticates with
// private_key_jwt, every authorization request is a signed request object pushed through PAR,
// and the OP finds the client's public key at the app's /.well-known/jwks.json.
//
// The key pair is made at start-up, as `npx express-par keygen --alg PS256` would make it. With a
// real OP you generate it once, keep the private key in a secret store, and register the public
// JWK (or the jwks_uri) for the client.
import { exportPKCS8, generateKeyPair } from 'jose'

export const JWKS_PATH = '/.well-known/jwks.json'
export const JAR_ALG = 'PS256'

/**
 * The OP side and the app side of a JAR + private_key_jwt client.
 *
 * @param {object} options
 * @param {string} options.baseURL the app's origin
 * @param {string} options.clientID
 * @param {string} [options.privateKeyPem] a PKCS#8 PEM from `npx express-par keygen`; default: a new PS256 key
 * @returns {Promise<{ client: object, opFeatures: object, loopbackCalls: string[], auth: import('express-par').AuthOptions }>}
 */
export async function jarSetup({ baseURL, clientID, privateKeyPem }) {
  const privateKey = privateKeyPem ?? (await exportPKCS8((await generateKeyPair(JAR_ALG, { extractable: true })).privateKey))
  const jwksUri = `${baseURL}${JWKS_PATH}`
  return {
    // The client registration at the OP.
    client: {
      client_id: clientID,
      redirect_uris: [`${baseURL}/callback`],
      post_logout_redirect_uris: [`${baseURL}/`],
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: JAR_ALG,
      require_signed_request_object: true,
      request_object_signing_alg: JAR_ALG,
      jwks_uri: jwksUri,
    },
    // oidc-provider: request objects on, and required from every client.
    opFeatures: { requestObjects: { enabled: true, requireSignedRequestObject: true } },
    // The OP fetches the app's jwks_uri on this machine (see startLocalOP's loopbackCalls).
    loopbackCalls: [jwksUri],
    // The app's auth() options: no client secret, one key for both signatures.
    auth: {
      baseURL,
      clientID,
      clientAssertionSigningKey: privateKey,
      clientAssertionSigningAlg: JAR_ALG,
      requestObjectSigningKey: privateKey,
      requestObjectSigningAlg: JAR_ALG,
      routes: { jwks: JWKS_PATH },
    },
  }
}
