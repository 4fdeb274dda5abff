/**
 * `npx express-par keygen [--fapi] [--alg PS256] [--format pem|jwk] [--out FILE]`: a new private signing key
 * for `requestObjectSigningKey` / `clientAssertionSigningKey`, and its public JWK Set, ready to
 * paste into the OP's client registration (`jwks`). Keys come from jose.
 *
 * stdout carries only key material, so it can be redirected to a file: the private key, or with
 * `--out FILE` (the private key written there, mode 0600, never over an existing file) the public
 * JWK Set. Everything meant for a person goes to stderr.
 */

import { writeFile } from 'node:fs/promises'
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
  /** Write the private key to this file (mode 0600, not over an existing file) instead of stdout. */
  out?: string | undefined
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

export const USAGE = `Usage: npx express-par keygen [--fapi] [--alg ${SIGNING_ALGS.join('|')}] [--format pem|jwk] [--out FILE]

Makes a new private signing key for express-par's requestObjectSigningKey (JAR) and
clientAssertionSigningKey (private_key_jwt), and its public JWK Set for the OP's client registration.
  --fapi    only the algorithms FAPI 2.0 permits (${FAPI2_ALGS.join(', ')}), for profile: 'fapi2-security'
  --alg     the JWS algorithm the key is for (default PS256: RSA 2048-bit)
  --format  pem: PKCS#8 PEM (default); jwk: a private JWK that carries its kid and alg
  --out     write the private key to FILE (created with mode 0600, never over an existing file)
            and print the public JWK Set instead
stdout carries only key material, so "> FILE" works: the private key, or with --out the public
JWK Set. Notes (and, without --out, the public JWK Set) go to stderr. For example:
  npx express-par keygen --format jwk --out key.json > jwks.json`

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
  let values: { alg?: string | undefined; format?: string | undefined; out?: string | undefined; fapi?: boolean | undefined }
  try {
    ;({ values } = parseArgs({
      args,
      options: { alg: { type: 'string' }, format: { type: 'string' }, out: { type: 'string' }, fapi: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }))
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
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a file name.')
  return { alg: alg as SigningAlg, format, out: values.out }
}

/** The private key as a file holds it: the PEM block, or the JWK as JSON. */
export function privateKeyText(key: GeneratedKey): string {
  return typeof key.privateKey === 'string' ? `${key.privateKey.trimEnd()}\n` : `${JSON.stringify(key.privateKey, null, 2)}\n`
}

/** The public JWK Set to register at the OP, as JSON. */
export function publicJwksText(key: GeneratedKey): string {
  return `${JSON.stringify({ keys: [key.publicJwk] }, null, 2)}\n`
}

/** What to do with the key, for a person (stderr). `out` is where the private key was written, if it was. */
export function keyNotes(key: GeneratedKey, out?: string): string {
  const algHint =
    typeof key.privateKey === 'string' && !key.alg.startsWith('ES')
      ? `   A PEM does not carry its algorithm: also set requestObjectSigningAlg / clientAssertionSigningAlg: '${key.alg}'.\n`
      : ''
  return (
    `express-par keygen: a new ${key.alg} signing key, kid ${key.kid}\n` +
    `1. The PRIVATE key is ${out ? `in ${out} (mode 0600)` : 'on stdout'}. Keep it secret (a secrets manager or an\n` +
    '   environment variable, never the repository) and give it to auth() as requestObjectSigningKey\n' +
    '   (JAR) and/or clientAssertionSigningKey (private_key_jwt).\n' +
    algHint +
    `2. The PUBLIC key set is ${out ? 'on stdout' : 'below'}. Register it for this client at the OP ("jwks"), or serve it with\n` +
    "   auth({ routes: { jwks: '/.well-known/jwks.json' } }) and register that URL as \"jwks_uri\".\n"
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
  let options: KeygenOptions
  try {
    options = parseKeygenArgs(rest)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    stderr.write(`express-par keygen: ${err.message}\n\n${USAGE}\n`)
    return 2
  }
  const key = await generateSigningKey(options)
  if (options.out === undefined) {
    stdout.write(privateKeyText(key))
    stderr.write(`${keyNotes(key)}${publicJwksText(key)}`)
    return 0
  }
  try {
    // 'wx': never replace an existing file, which may be a key in use.
    await writeFile(options.out, privateKeyText(key), { mode: 0o600, flag: 'wx' })
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists, and keygen never overwrites a key. Choose another --out, or delete the file first.' : (err as Error).message
    stderr.write(`express-par keygen: cannot write ${options.out}: ${reason}\n`)
    return 1
  }
  stdout.write(publicJwksText(key))
  stderr.write(keyNotes(key, options.out))
  return 0
}
