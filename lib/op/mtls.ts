/**
 * Mutual TLS (RFC 8705): the `mtls` option, checked once at `auth()`, and the one place that turns
 * it into a transport: an undici `Agent` that presents the client certificate on every connection,
 * and a `fetch` that uses it. Node's global fetch cannot carry a client certificate, so undici's
 * own `fetch` does. openid-client sends the PAR, token, JWKS and resource requests through it
 * (`client.customFetch`), so certificate-bound tokens (RFC 8705 §3) and the `tls_client_auth` /
 * `self_signed_tls_client_auth` methods (§2) work; `mtls_endpoint_aliases` (§5) are openid-client's
 * (`use_mtls_endpoint_aliases`). The agent is built once per `auth()` instance, never per request.
 */

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto'
import { Agent, fetch as undiciFetch } from 'undici'
import type * as client from 'openid-client'
import { checkKeys, configError, invalid } from '../config/checks.js'

/** A PEM string or a Buffer holding PEM. */
export type PemInput = string | Buffer

/** The `mtls` option of `auth()`. */
export interface MtlsOptions {
  /** The client certificate (PEM), as registered at the OP. Intermediate certificates may follow it. */
  cert: PemInput
  /** Its private key (PKCS#8 or PKCS#1/SEC1 PEM, unencrypted). */
  key: PemInput
  /**
   * The CA certificate(s) to trust for the OP and resource servers instead of Node's default
   * trust store (PEM; several may be concatenated or given as an array). Default: Node's.
   */
  ca?: PemInput | PemInput[]
}

/** The checked `mtls` option. */
export interface MtlsConfig {
  readonly cert: string
  readonly key: string
  readonly ca: string[] | undefined
  /** The client certificate, e.g. for its subject in messages. */
  readonly certificate: X509Certificate
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g

function pemText(value: unknown, option: string): string {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value
  if (typeof text !== 'string') invalid(`\`${option}\` must be a PEM string or a Buffer holding PEM, got ${value === null ? 'null' : typeof value}.`)
  if (!text.includes('-----BEGIN ')) invalid(`\`${option}\` is not PEM: expected a "-----BEGIN ...-----" block (a DER file must be converted: openssl x509 -inform der -in file.der).`)
  return text
}

/** The PEM blocks of `text` with the given labels. */
function blocks(text: string, labels: readonly string[]): string[] {
  return [...text.matchAll(PEM_BLOCK)].filter((m) => labels.includes(m[1]!)).map((m) => m[0])
}

function certificates(value: unknown, option: string): X509Certificate[] {
  const text = pemText(value, option)
  const found = blocks(text, ['CERTIFICATE'])
  if (found.length === 0) {
    invalid(/PRIVATE KEY-----/.test(text) ? `\`${option}\` is a private key; it must be a certificate ("-----BEGIN CERTIFICATE-----").` : `\`${option}\` holds no "-----BEGIN CERTIFICATE-----" block.`)
  }
  return found.map((pem, i) => {
    try {
      return new X509Certificate(pem)
    } catch (err) {
      throw configError(`\`${option}\`: certificate ${i + 1} cannot be read (${(err as Error).message}).`, err)
    }
  })
}

function privateKey(value: unknown, option: string): KeyObject {
  const text = pemText(value, option)
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) invalid(`\`${option}\` is an encrypted private key: decrypt it (openssl pkey -in key.pem -out plain.pem) and keep it in a secret store.`)
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(text)) invalid(`\`${option}\` holds no private key ("-----BEGIN PRIVATE KEY-----").`)
  try {
    return createPrivateKey(text)
  } catch (err) {
    throw configError(`\`${option}\` is not a readable private key (${(err as Error).message}).`, err)
  }
}

/**
 * Checks the `mtls` option: a readable certificate and private key that belong together, a
 * certificate that is valid now, and readable CA certificates. Throws `ERR_CONFIG_INVALID`.
 */
export function checkMtls(value: unknown, now = new Date()): MtlsConfig | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) {
    invalid('`mtls` must be an object { cert, key, ca? } of PEM strings or Buffers.')
  }
  checkKeys(value, ['cert', 'key', 'ca'], 'mtls.')
  const given = value as { cert?: unknown; key?: unknown; ca?: unknown }
  if (given.cert === undefined) invalid('`mtls.cert` is required: the client certificate (PEM) registered for this client at the OP.')
  if (given.key === undefined) invalid('`mtls.key` is required: the private key (PEM) of `mtls.cert`.')
  const [certificate] = certificates(given.cert, 'mtls.cert')
  const key = privateKey(given.key, 'mtls.key')
  if (!certificate!.checkPrivateKey(key)) {
    invalid(`\`mtls.key\` does not belong to \`mtls.cert\` (subject ${JSON.stringify(certificate!.subject)}): give the private key the certificate was issued for.`)
  }
  if (new Date(certificate!.validTo) < now) invalid(`\`mtls.cert\` (subject ${JSON.stringify(certificate!.subject)}) expired on ${certificate!.validTo}: renew it and register the new one at the OP.`)
  if (new Date(certificate!.validFrom) > now) invalid(`\`mtls.cert\` (subject ${JSON.stringify(certificate!.subject)}) is not valid before ${certificate!.validFrom}: check the clock or the certificate.`)
  let ca: string[] | undefined
  if (given.ca !== undefined) {
    const list = Array.isArray(given.ca) ? given.ca : [given.ca]
    if (list.length === 0) invalid('`mtls.ca` is an empty array: omit it to trust Node\'s default CAs, or give the CA certificates.')
    ca = list.flatMap((entry, i) => certificates(entry, list.length > 1 ? `mtls.ca[${i}]` : 'mtls.ca').map((c) => c.toString()))
  }
  return Object.freeze({ cert: pemText(given.cert, 'mtls.cert'), key: pemText(given.key, 'mtls.key'), ca: ca && Object.freeze(ca) as string[], certificate: certificate! })
}

/** The undici Agent of `mtls`: every connection it opens presents the client certificate. */
export function mtlsAgent(mtls: MtlsConfig): Agent {
  return new Agent({ connect: { cert: mtls.cert, key: mtls.key, ...(mtls.ca && { ca: mtls.ca }) } })
}

/**
 * A fetch for openid-client (`client.customFetch`) that sends every request through `agent`.
 * Composable: wrap it (timeouts, body limits) or give it to `client.customFetch` as it is.
 *
 * @example
 * ```ts
 * const fetch = mtlsFetch(mtlsAgent(config.mtls))
 * await client.discovery(issuer, clientId, metadata, client.TlsClientAuth(), { [client.customFetch]: fetch })
 * ```
 */
export function mtlsFetch(agent: Agent): client.CustomFetch {
  // undici's Response is the same Fetch API class as Node's global one, from another copy of undici.
  return (url, options) => undiciFetch(url, { ...options, dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>
}
