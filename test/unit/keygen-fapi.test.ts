/** `npx express-par keygen --fapi`: only the algorithms FAPI 2.0 permits, and keys profile 'fapi2-security' accepts. */

import { main } from '../../lib/cli/keygen.js'
import { buildConfig } from '../../lib/config/options.js'

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(args, { write: (t: string) => (out += t) }, { write: (t: string) => (err += t) })
  return { code, out, err }
}

test.each<[string[], string]>([
  [[], 'PS256'],
  [['--alg', 'PS256'], 'PS256'],
  [['--alg', 'ES256'], 'ES256'],
  [['--alg', 'EdDSA'], 'EdDSA'],
])('keygen --fapi %j makes a %s key that profile fapi2-security accepts', async (args, alg) => {
  const { code, out, err } = await run('keygen', '--fapi', '--format', 'jwk', ...args)
  expect(code).toBe(0)
  expect(err).toContain(`a new ${alg} signing key`)
  const privateKey = JSON.parse(out) // stdout carries only the key
  expect(privateKey.alg).toBe(alg)
  const config = buildConfig({
    issuerBaseURL: 'https://op.example.com',
    baseURL: 'https://app.example.com',
    clientID: 'client',
    clientAssertionSigningKey: privateKey,
    dpop: true,
    profile: 'fapi2-security',
  })
  expect(config.clientAuth.key!.algs).toEqual([alg])
})

test.each(['RS256', 'PS384', 'ES384', 'Ed25519'])('keygen --fapi --alg %s is a usage error naming the permitted algorithms', async (alg) => {
  const { code, out, err } = await run('keygen', '--fapi', '--alg', alg)
  expect({ code, out }).toEqual({ code: 2, out: '' })
  expect(err).toContain(`--alg must be one of PS256, ES256, EdDSA with --fapi (FAPI 2.0, profile: 'fapi2-security'), got "${alg}"`)
})

test('the usage names --fapi', async () => {
  expect((await run('keygen', '--help')).out).toMatch(/--fapi\s+only the algorithms FAPI 2.0 permits \(PS256, ES256, EdDSA\)/)
})
