import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

// `npm test` builds first: this runs the `express-par` bin as npx would.
test('the package.json bin runs keygen from the build', () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'))
  expect(pkg.bin).toEqual({ 'express-par': 'dist/cli/index.js' })
  const out = execFileSync(process.execPath, [`${root}/${pkg.bin['express-par']}`, 'keygen', '--alg', 'ES256'], { encoding: 'utf8' })
  expect(out).toMatch(/-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----/)
  expect(out).toContain('"alg": "ES256"')
  expect(readFileSync(`${root}/${pkg.bin['express-par']}`, 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/)
})
