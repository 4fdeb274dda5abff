import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JWK } from 'jose'
import { main } from '../../lib/cli/keygen.js'
import { buildConfig } from '../../lib/config/options.js'

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(args, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) })
  return { code, out, err }
}

/** keygen's stdout is the private key alone (PEM, or a JWK as JSON); stderr has the notes, then the public JWK Set. */
function parse({ out, err }: { out: string; err: string }): { privateKey: string | JWK; jwks: { keys: JWK[] }; kid: string } {
  const privateText = out.trim()
  return {
    privateKey: privateText.startsWith('-----BEGIN PRIVATE KEY-----') ? privateText : (JSON.parse(out) as JWK),
    jwks: JSON.parse(err.slice(err.indexOf('\n{') + 1)),
    kid: /kid (\S+)/.exec(err)![1]!,
  }
}

describe('npx express-par keygen', () => {
  test.each<[string[], string, string]>([
    [[], 'PS256', 'RSA'],
    [['--alg', 'ES256'], 'ES256', 'EC'],
    [['--alg', 'ES384', '--format', 'jwk'], 'ES384', 'EC'],
    [['--alg', 'EdDSA'], 'EdDSA', 'OKP'],
    [['--alg', 'RS256', '--format', 'jwk'], 'RS256', 'RSA'],
  ])('keygen %j prints a private key auth() accepts and the public JWK to register', async (args, alg, kty) => {
    const { code, out, err } = await run('keygen', ...args)
    expect(code).toBe(0)
    if (args.includes('jwk')) expect(() => JSON.parse(out)).not.toThrow() // `> key.json` is JSON
    else expect(out).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/)
    const { privateKey, jwks, kid } = parse({ out, err })
    expect(jwks.keys).toEqual([expect.objectContaining({ kty, kid, use: 'sig', alg })])
    for (const part of ['d', 'p', 'q']) expect(jwks.keys[0]).not.toHaveProperty(part)

    const config = buildConfig({
      issuerBaseURL: 'https://op.example.com',
      baseURL: 'https://app.example.com',
      clientID: 'client',
      requestObjectSigningKey: privateKey,
      clientAssertionSigningKey: privateKey,
      ...(typeof privateKey === 'string' && { requestObjectSigningAlg: alg as never, clientAssertionSigningAlg: alg as never }),
    })
    expect(config.requestObjectKey!.algs).toEqual([alg])
    const material = await config.requestObjectKey!.material()
    expect(material.publicJwk).toEqual(jwks.keys[0])
  })

  test('a PEM of an RSA key says which algorithm option to set', async () => {
    expect((await run('keygen')).err).toContain("also set requestObjectSigningAlg / clientAssertionSigningAlg: 'PS256'")
  })

  describe('--out', () => {
    let dir: string
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'express-par-keygen-'))
    })
    afterEach(() => rmSync(dir, { recursive: true, force: true }))

    test.each([['pem'], ['jwk']])('--format %s writes the private key to the file, mode 0600, and prints the public JWK Set as JSON', async (format) => {
      const file = join(dir, `key.${format === 'jwk' ? 'json' : 'pem'}`)
      const { code, out, err } = await run('keygen', '--alg', 'ES256', '--format', format, '--out', file)
      expect(code).toBe(0)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      const jwks = JSON.parse(out) as { keys: JWK[] }
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-256', use: 'sig', alg: 'ES256' })])
      expect(jwks.keys[0]).not.toHaveProperty('d')
      expect(err).toContain(`The PRIVATE key is in ${file} (mode 0600)`)
      const written = readFileSync(file, 'utf8')
      const privateKey = format === 'jwk' ? (JSON.parse(written) as JWK) : written
      if (typeof privateKey === 'string') expect(privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----\n/)
      else expect(privateKey).toMatchObject({ kid: jwks.keys[0]!.kid, alg: 'ES256', d: expect.any(String) })
      const config = buildConfig({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientAssertionSigningKey: privateKey })
      expect((await config.clientAuth.key!.material()).publicJwk).toEqual(jwks.keys[0])
    })

    test('never overwrites an existing file (exit code 1, the file as it was)', async () => {
      const file = join(dir, 'key.pem')
      writeFileSync(file, 'the key in use\n')
      const { code, out, err } = await run('keygen', '--out', file)
      expect(code).toBe(1)
      expect(out).toBe('')
      expect(err).toBe(`express-par keygen: cannot write ${file}: it exists, and keygen never overwrites a key. Choose another --out, or delete the file first.\n`)
      expect(readFileSync(file, 'utf8')).toBe('the key in use\n')
    })
  })

  test.each<[string[], RegExp]>([
    [['keygen', '--alg', 'HS256'], /--alg must be one of PS256, .*got "HS256"/],
    [['keygen', '--format', 'der'], /--format must be pem or jwk, got "der"/],
    [['keygen', '--size', '4096'], /Unknown option '--size'/],
    [['keygen', 'extra'], /Unexpected argument 'extra'/],
    [['keygen', '--out', ' '], /--out needs a file name/],
    [['genkey'], /unknown command "genkey"/],
    [[], /^Usage: npx express-par keygen/],
  ])('%j is a usage error (exit code 2)', async (args, message) => {
    const { code, out, err } = await run(...args)
    expect(code).toBe(2)
    expect(out).toBe('')
    expect(err).toMatch(message)
    expect(err).toContain('Usage: npx express-par keygen')
  })

  test('--help prints the usage', async () => {
    expect(await run('keygen', '--help')).toEqual({ code: 0, out: expect.stringContaining('Usage: npx express-par keygen'), err: '' })
  })
})
