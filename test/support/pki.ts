/**
 * The test PKI of pki.sh as PEM strings. The FAPI suite (test/fapi/, `npm run test:fapi`) is
 * started with the PKI already made and the test CA trusted by the whole process
 * (NODE_EXTRA_CA_CERTS, as an app trusting a private CA is run): {@link trustedPki}. Unit tests
 * that only need certificates to check options make their own: {@link freshPki}.
 */

import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PKI_SCRIPT = fileURLToPath(new URL('./pki.sh', import.meta.url))

export interface KeyPair {
  key: string
  cert: string
}

export interface Pki {
  ca: string
  /** For localhost and 127.0.0.1, issued by the test CA. */
  server: KeyPair
  /** Self-signed (self_signed_tls_client_auth). */
  client: KeyPair
  /** Issued by the test CA (tls_client_auth), subject CN=express-par tls_client_auth client. */
  tlsClient: KeyPair
  /** Another self-signed client certificate: not the registered one. */
  otherClient: KeyPair
  /** Self-signed with an RSA 1024-bit key. */
  rsa1024Client: KeyPair
}

function read(dir: string): Pki {
  const file = (name: string) => readFileSync(join(dir, name), 'utf8')
  const pair = (name: string) => ({ key: file(`${name}.key`), cert: file(`${name}.pem`) })
  return {
    ca: file('ca.pem'),
    server: pair('server'),
    client: pair('client'),
    tlsClient: pair('tls-client'),
    otherClient: pair('other-client'),
    rsa1024Client: pair('rsa1024-client'),
  }
}

/** Makes a PKI in a temporary directory, reads it and removes the directory. */
export function freshPki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'express-par-pki-'))
  try {
    execFileSync('bash', [PKI_SCRIPT, dir], { stdio: ['ignore', 'ignore', 'pipe'] })
    return read(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The PKI the FAPI suite was started with, whose CA this process trusts. Fails (never skips) when
 * the suite was not started through `npm run test:fapi`.
 */
export function trustedPki(): Pki {
  const dir = process.env.EXPRESS_PAR_TEST_PKI
  if (!dir || !process.env.NODE_EXTRA_CA_CERTS) {
    throw new Error('The FAPI suite needs its test CA trusted by the process: run it with `npm run test:fapi` (test/fapi/run.js), not jest directly.')
  }
  return read(dir)
}
