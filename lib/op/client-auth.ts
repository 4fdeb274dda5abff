/**
 * Client authentication at the PAR and token endpoints (RFC 9126 §2.1 uses the token endpoint's
 * methods): `client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`
 * (RFC 7523), and `tls_client_auth` / `self_signed_tls_client_auth` (RFC 8705 §2: the client
 * certificate of `mtls` authenticates), through openid-client. Assertions are openid-client's: a
 * fresh `jti`, `exp` 60 s after `iat`, `aud` = the issuer, `iss` = `sub` = the client id.
 */

import * as client from 'openid-client'
import { assertionOptions, chooseAlg, loadSigningKey, type SigningKey } from './keys.js'
import { configError } from '../config/checks.js'
import { printableList } from './op-errors.js'

/** How the client authenticates at the PAR and token endpoints. */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'client_secret_jwt'
  | 'private_key_jwt'
  | 'tls_client_auth'
  | 'self_signed_tls_client_auth'

const METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth']
export const SECRET_METHODS: readonly ClientAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt']
/** The methods where the `mtls` client certificate authenticates the client (RFC 8705 §2). */
export const TLS_METHODS: readonly ClientAuthMethod[] = ['tls_client_auth', 'self_signed_tls_client_auth']

/** The validated client authentication settings. */
export interface ClientAuthConfig {
  readonly method: ClientAuthMethod
  /** For the `client_secret_*` methods. */
  readonly secret: string | undefined
  /** For `private_key_jwt`. */
  readonly key: SigningKey | undefined
}

/** The client authentication options of `auth()`, as given. */
export interface ClientAuthOptions {
  clientSecret?: unknown
  clientAuthMethod?: unknown
  clientAssertionSigningKey?: unknown
  clientAssertionSigningAlg?: unknown
  /** Only whether it is set: the TLS methods need the client certificate. */
  mtls?: unknown
}

/**
 * Decides the method from the options (`private_key_jwt` when `clientAssertionSigningKey` is
 * given, `client_secret_basic` otherwise) and checks that it has what it needs. Throws
 * `ERR_CONFIG_INVALID`.
 */
export function resolveClientAuth(given: ClientAuthOptions): ClientAuthConfig {
  const method = given.clientAuthMethod ?? (given.clientAssertionSigningKey !== undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (method === 'none') {
    throw configError(
      '`clientAuthMethod: \'none\'` (a public client) is refused: PAR (RFC 9126) deployments expect a confidential client. Register the client with a secret or a key and use one of ' +
        `${METHODS.join(', ')}.`,
    )
  }
  if (!METHODS.includes(method as ClientAuthMethod)) {
    throw configError(`\`clientAuthMethod\` must be one of ${METHODS.join(', ')}, got ${JSON.stringify(method)}.`)
  }
  const chosen = method as ClientAuthMethod

  if (given.clientSecret !== undefined && (typeof given.clientSecret !== 'string' || given.clientSecret.trim() === '')) {
    throw configError('`clientSecret` must be a non-empty string.')
  }
  const secret = given.clientSecret as string | undefined

  if (TLS_METHODS.includes(chosen)) {
    if (given.mtls === undefined) {
      throw configError(`\`clientAuthMethod: '${chosen}'\` authenticates the client with its TLS certificate (RFC 8705 §2), but \`mtls\` is not set: give \`mtls: { cert, key }\`.`)
    }
    for (const name of ['clientSecret', 'clientAssertionSigningKey', 'clientAssertionSigningAlg'] as const) {
      if (given[name] !== undefined) throw configError(`\`${name}\` is not used with \`clientAuthMethod: '${chosen}'\` (the client certificate authenticates): remove it.`)
    }
    return Object.freeze({ method: chosen, secret: undefined, key: undefined })
  }

  if (SECRET_METHODS.includes(chosen)) {
    if (secret === undefined) {
      throw configError(
        `\`clientSecret\` is required: PAR (RFC 9126) needs an authenticated, confidential client, and ${chosen} authenticates with the secret. ` +
          'Copy it from the client registration at your OP, or authenticate with a key instead (`clientAssertionSigningKey`, private_key_jwt; `npx express-par keygen` makes one)' +
          (given.mtls !== undefined ? ", or with the `mtls` certificate (`clientAuthMethod: 'tls_client_auth'` or 'self_signed_tls_client_auth')." : '.'),
      )
    }
    if (given.clientAssertionSigningKey !== undefined) {
      throw configError(`\`clientAssertionSigningKey\` is only used with \`clientAuthMethod: 'private_key_jwt'\`, but clientAuthMethod is ${chosen}. Remove one of them.`)
    }
    if (given.clientAssertionSigningAlg !== undefined && !(chosen === 'client_secret_jwt' && given.clientAssertionSigningAlg === 'HS256')) {
      throw configError(
        chosen === 'client_secret_jwt'
          ? `\`clientAssertionSigningAlg\` must be HS256 with client_secret_jwt, got ${JSON.stringify(given.clientAssertionSigningAlg)}.`
          : `\`clientAssertionSigningAlg\` is only used with client_secret_jwt or private_key_jwt, but clientAuthMethod is ${chosen}.`,
      )
    }
    return Object.freeze({ method: chosen, secret, key: undefined })
  }

  if (given.clientAssertionSigningKey === undefined) {
    throw configError(
      '`clientAssertionSigningKey` is required for private_key_jwt: the private key whose public half is registered for this client at the OP. `npx express-par keygen` prints both.',
    )
  }
  const key = loadSigningKey(given.clientAssertionSigningKey, {
    option: 'clientAssertionSigningKey',
    algOption: 'clientAssertionSigningAlg',
    alg: given.clientAssertionSigningAlg,
  })
  return Object.freeze({ method: chosen, secret, key })
}

type ServerMetadata = Pick<client.ServerMetadata, 'issuer' | 'token_endpoint_auth_methods_supported' | 'token_endpoint_auth_signing_alg_values_supported'>

/** Checks the method and algorithm against the OP's metadata and builds openid-client's ClientAuth. */
async function negotiate(auth: ClientAuthConfig, server: ServerMetadata): Promise<client.ClientAuth> {
  const methods = server.token_endpoint_auth_methods_supported
  if (Array.isArray(methods) && methods.length > 0 && !methods.includes(auth.method)) {
    throw configError(
      `\`clientAuthMethod\` is ${auth.method}, but the OP at ${server.issuer} accepts only ${printableList(methods)} (token_endpoint_auth_methods_supported). Use one of those, as registered for this client.`,
    )
  }
  const algs = server.token_endpoint_auth_signing_alg_values_supported
  switch (auth.method) {
    case 'client_secret_basic':
      return client.ClientSecretBasic(auth.secret!)
    case 'client_secret_post':
      return client.ClientSecretPost(auth.secret!)
    case 'client_secret_jwt':
      if (Array.isArray(algs) && algs.length > 0 && !algs.includes('HS256')) {
        throw configError(`client_secret_jwt signs with HS256, but the OP at ${server.issuer} accepts only ${printableList(algs)} (token_endpoint_auth_signing_alg_values_supported). Use private_key_jwt.`)
      }
      return client.ClientSecretJwt(auth.secret!)
    case 'private_key_jwt': {
      const key = auth.key!
      const alg = chooseAlg(key, algs, 'token_endpoint_auth_signing_alg_values_supported', server.issuer)
      const material = await key.material()
      return client.PrivateKeyJwt({ key: material.cryptoKey(alg), kid: material.kid }, assertionOptions(alg))
    }
    case 'tls_client_auth':
    case 'self_signed_tls_client_auth':
      return client.TlsClientAuth()
  }
}

/** The client authentication of one `auth()` instance. */
export interface ClientAuthentication {
  /** Passed to openid-client: settles method and algorithm on first use against the OP's metadata. */
  readonly clientAuth: client.ClientAuth
  /** Throws `ERR_CONFIG_INVALID` at discovery when the OP cannot accept this client authentication. */
  check(server: ServerMetadata): Promise<void>
}

/** Builds the client authentication of one `auth()` instance. */
export function createClientAuthentication(auth: ClientAuthConfig): ClientAuthentication {
  const negotiated = new WeakMap<object, Promise<client.ClientAuth>>()
  return {
    clientAuth: async (as, c, body, headers) => {
      let method = negotiated.get(as)
      if (!method) negotiated.set(as, (method = negotiate(auth, as)))
      await (await method)(as, c, body, headers)
    },
    check: async (server) => {
      await negotiate(auth, server)
    },
  }
}
