import type { JWK } from 'jose'
import { main } from '../../lib/cli/keygen.js'
import { buildConfig } from '../../lib/config/options.js'

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(args, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) })
  return { code, out, err }
}

/** Splits keygen's output into its private key (PEM or JWK text) and its public JWK Set. */
function parse(out: string): { privateKey: string | JWK; jwks: { keys: JWK[] }; kid: string } {
  const blocks = out.split(/^#.*\n/m).filter((b) => b.trim())
  expect(blocks).toHaveLength(2)
  const privateText = blocks[0]!.trim()
  return {
    privateKey: privateText.startsWith('-----BEGIN PRIVATE KEY-----') ? privateText : (JSON.parse(privateText) as JWK),
    jwks: JSON.parse(blocks[1]!),
    kid: /kid (\S+)/.exec(out)![1]!,
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
    expect({ code, err }).toEqual({ code: 0, err: '' })
    const { privateKey, jwks, kid } = parse(out)
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
    expect((await run('keygen')).out).toContain("also set requestObjectSigningAlg / clientAssertionSigningAlg: 'PS256'")
  })

  test.each<[string[], RegExp]>([
    [['keygen', '--alg', 'HS256'], /--alg must be one of PS256, .*got "HS256"/],
    [['keygen', '--format', 'der'], /--format must be pem or jwk, got "der"/],
    [['keygen', '--size', '4096'], /Unknown option '--size'/],
    [['keygen', 'extra'], /Unexpected argument 'extra'/],
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
