/**
 * JAR (RFC 9101) inside PAR (RFC 9126 §3): the authorization parameters, PKCE challenge included,
 * travel only inside a request object signed by openid-client (`typ: oauth-authz-req+jwt`,
 * `iss` = `client_id`, `aud` = the issuer, `iat`, `nbf`, `exp` 60 s later, a random `jti`); the
 * PAR body carries `request`, `client_id` and the client authentication, nothing else.
 */

import * as client from 'openid-client'
import { assertionOptions, chooseAlg, type SigningAlg, type SigningKey } from './keys.js'
import { configError } from '../config/checks.js'

type ServerMetadata = Pick<client.ServerMetadata, 'issuer' | 'request_object_signing_alg_values_supported' | 'require_signed_request_object'>

interface Signer {
  readonly alg: SigningAlg
  readonly key: client.PrivateKey
  readonly options: client.ModifyAssertionOptions | undefined
}

async function negotiate(key: SigningKey, server: ServerMetadata): Promise<Signer> {
  const alg = chooseAlg(key, server.request_object_signing_alg_values_supported, 'request_object_signing_alg_values_supported', server.issuer)
  const material = await key.material()
  return { alg, key: { key: material.cryptoKey(alg), kid: material.kid }, options: assertionOptions(alg) }
}

/**
 * Checks at discovery that the OP and the configuration agree on request objects: an OP that
 * requires them needs `requestObjectSigningKey`; a configured key must use an algorithm the OP
 * lists. Throws `ERR_CONFIG_INVALID`.
 */
export async function checkRequestObjects(key: SigningKey | undefined, server: ServerMetadata): Promise<void> {
  if (key) {
    await negotiate(key, server)
    return
  }
  if (server.require_signed_request_object === true) {
    throw configError(
      `the OP at ${server.issuer} requires signed request objects (require_signed_request_object: true), so logins must use JAR (RFC 9101): ` +
        'set `requestObjectSigningKey` to a private key whose public half is registered for this client at the OP (`npx express-par keygen` prints both; see the README\'s JAR section).',
    )
  }
}

const signers = new WeakMap<client.Configuration, Promise<Signer>>()

/**
 * Wraps the authorization parameters in a request object for `op` and returns what the PAR body
 * carries: `client_id` and `request`. The algorithm is settled once per OP configuration.
 *
 * @example
 * ```ts
 * const pushed = await requestObjectParameters(op, key, { redirect_uri, scope, code_challenge, ... })
 * const url = await client.buildAuthorizationUrlWithPAR(op, pushed)
 * ```
 * @see RFC 9101 §4, RFC 9126 §3
 */
export async function requestObjectParameters(op: client.Configuration, key: SigningKey, parameters: Record<string, string>): Promise<URLSearchParams> {
  let signer = signers.get(op)
  if (!signer) signers.set(op, (signer = negotiate(key, op.serverMetadata())))
  const { key: privateKey, options } = await signer
  const url = await client.buildAuthorizationUrlWithJAR(op, parameters, privateKey, options)
  return url.searchParams
}
