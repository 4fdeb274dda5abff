/**
 * `npx express-par keygen [--fapi] [--alg PS256] [--format pem|jwk]`: a new private signing key for
 * `requestObjectSigningKey` / `clientAssertionSigningKey`, and its public JWK Set, ready to paste
 * into the OP's client registration (`jwks`). Keys come from jose; nothing is written to disk.
 */

import { parseArgs } from 'node:util'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose'
import { SIGNING_ALGS, type SigningAlg } from '../op/keys.js'
import { FAPI2_ALGS } from '../config/profile.js'

export type KeyFormat = 'pem' | 'jwk'

export interface KeygenOptions {
  /** Default `PS256` (RSA 2048-bit). */
  alg: SigningAlg
  /** How to print the private key. Default `pem` (PKCS#8). */
  format: KeyFormat
}

export interface GeneratedKey {
  alg: SigningAlg
  kid: string
  /** PKCS#8 PEM, or a private JWK carrying `kid` and `alg`. */
  privateKey: string | JWK
  /** The public half, with `kid`, `use: "sig"` and `alg`. */
  publicJwk: JWK
}

/** Raised for a bad command line; `main` prints it with the usage. */
export class UsageError extends Error {}

export const USAGE = `Usage: npx express-par keygen [--fapi] [--alg ${SIGNING_ALGS.join('|')}] [--format pem|jwk]

Prints a new private signing key for express-par's requestObjectSigningKey (JAR) and
clientAssertionSigningKey (private_key_jwt), and its public JWK Set for the OP's client registration.
  --fapi    only the algorithms FAPI 2.0 permits (${FAPI2_ALGS.join(', ')}), for profile: 'fapi2-security'
  --alg     the JWS algorithm the key is for (default PS256: RSA 2048-bit)
  --format  pem: PKCS#8 PEM (default); jwk: a private JWK that carries its kid and alg`

/** Generates a signing key for `alg`, its key id being its RFC 7638 thumbprint. */
export async function generateSigningKey({ alg, format }: KeygenOptions): Promise<GeneratedKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = await exportJWK(publicKey)
  const kid = await calculateJwkThumbprint(publicJwk)
  return {
    alg,
    kid,
    privateKey: format === 'pem' ? await exportPKCS8(privateKey) : { ...(await exportJWK(privateKey)), kid, alg },
    publicJwk: { ...publicJwk, kid, use: 'sig', alg },
  }
}

/** Parses `keygen`'s arguments (after the sub-command). */
export function parseKeygenArgs(args: string[]): KeygenOptions {
  let values: { alg?: string | undefined; format?: string | undefined; fapi?: boolean | undefined }
  try {
    ;({ values } = parseArgs({ args, options: { alg: { type: 'string' }, format: { type: 'string' }, fapi: { type: 'boolean' } }, strict: true, allowPositionals: false }))
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  const alg = values.alg ?? 'PS256'
  const offered: readonly string[] = values.fapi ? FAPI2_ALGS : SIGNING_ALGS
  if (!offered.includes(alg)) {
    throw new UsageError(`--alg must be one of ${offered.join(', ')}${values.fapi ? " with --fapi (FAPI 2.0, profile: 'fapi2-security')" : ''}, got ${JSON.stringify(alg)}.`)
  }
  const format = values.format ?? 'pem'
  if (format !== 'pem' && format !== 'jwk') throw new UsageError(`--format must be pem or jwk, got ${JSON.stringify(format)}.`)
  return { alg: alg as SigningAlg, format }
}

/** The text `keygen` prints: the private key between comment lines, then the public JWK Set. */
export function formatGeneratedKey(key: GeneratedKey): string {
  const privateText = typeof key.privateKey === 'string' ? key.privateKey.trimEnd() : JSON.stringify(key.privateKey, null, 2)
  const algHint =
    typeof key.privateKey === 'string' && !key.alg.startsWith('ES')
      ? `#    A PEM does not carry its algorithm: also set requestObjectSigningAlg / clientAssertionSigningAlg: '${key.alg}'.\n`
      : ''
  return (
    `# express-par keygen: a new ${key.alg} signing key, kid ${key.kid}\n` +
    '#\n' +
    '# 1. The PRIVATE key. Keep it secret (a secrets manager or an environment variable, never the\n' +
    '#    repository) and give it to auth() as requestObjectSigningKey (JAR) and/or\n' +
    '#    clientAssertionSigningKey (private_key_jwt).\n' +
    algHint +
    `${privateText}\n` +
    '#\n' +
    '# 2. The PUBLIC key set. Register it for this client at the OP ("jwks"), or serve it with\n' +
    "#    auth({ routes: { jwks: '/.well-known/jwks.json' } }) and register that URL as \"jwks_uri\".\n" +
    `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`
  )
}

interface Output {
  write(text: string): unknown
}

/** Runs the command line `args` (without `node` and the script); resolves to the exit code. */
export async function main(args: string[], stdout: Output, stderr: Output): Promise<number> {
  const [command, ...rest] = args
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    ;(command === undefined ? stderr : stdout).write(`${USAGE}\n`)
    return command === undefined ? 2 : 0
  }
  if (command !== 'keygen') {
    stderr.write(`express-par: unknown command ${JSON.stringify(command)}.\n\n${USAGE}\n`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    stdout.write(`${USAGE}\n`)
    return 0
  }
  try {
    stdout.write(formatGeneratedKey(await generateSigningKey(parseKeygenArgs(rest))))
    return 0
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    stderr.write(`express-par keygen: ${err.message}\n\n${USAGE}\n`)
    return 2
  }
}
