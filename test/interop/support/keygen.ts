/**
 * `npx express-par keygen`, run in-process (the bin's own main(), so no build is needed): the
 * private PEM to give to auth() and the public JWK Set to register at the OP, parsed from the
 * text the command prints.
 */

import type { JWK } from 'jose'
import { main } from '../../../lib/cli/keygen.js'

export interface KeygenOutput {
  privateKeyPem: string
  jwks: { keys: Array<JWK & { kid: string }> }
}

export async function keygen(alg: string): Promise<KeygenOutput> {
  let out = ''
  let err = ''
  const code = await main(['keygen', '--alg', alg], { write: (text) => (out += text) }, { write: (text) => (err += text) })
  if (code !== 0) throw new Error(`express-par keygen --alg ${alg} exited with ${code}: ${err}`)
  // The private PEM is on stdout; the instructions and the public JWK Set on stderr (so that
  // `keygen > key.pem` keeps only the secret).
  const pem = /-----BEGIN PRIVATE KEY-----\n[\s\S]+?\n-----END PRIVATE KEY-----/.exec(out)
  const jwksStart = err.lastIndexOf('\n{\n')
  if (!pem || jwksStart < 0) throw new Error(`Unexpected express-par keygen output:\n${out}\n(stderr)\n${err}`)
  return { privateKeyPem: pem[0], jwks: JSON.parse(err.slice(jwksStart)) }
}
