import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

// `npm test` builds first: this runs the `express-par` bin as npx would.
test('the package.json bin runs keygen from the build; stdout is the key alone', () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'))
  expect(pkg.bin).toEqual({ 'express-par': 'dist/cli/index.js' })
  const pem = spawnSync(process.execPath, [`${root}/${pkg.bin['express-par']}`, 'keygen', '--alg', 'ES256'], { encoding: 'utf8' })
  expect(pem.status).toBe(0)
  expect(pem.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
  expect(pem.stderr).toContain('"alg": "ES256"') // the public JWK Set, for a person to copy
  const jwk = spawnSync(process.execPath, [`${root}/${pkg.bin['express-par']}`, 'keygen', '--format', 'jwk'], { encoding: 'utf8' })
  expect(JSON.parse(jwk.stdout)).toMatchObject({ kty: 'RSA', alg: 'PS256', d: expect.any(String) })
  expect(readFileSync(`${root}/${pkg.bin['express-par']}`, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
})
