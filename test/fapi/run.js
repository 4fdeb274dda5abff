// `npm run test:fapi`: the FAPI 2.0 suite (test/fapi/). It makes a throwaway PKI
// (test/support/pki.sh) and runs jest with the test CA trusted by the whole process through
// NODE_EXTRA_CA_CERTS, as an app that trusts a private CA is started; Node reads that variable
// only at start-up, hence this wrapper. Arguments go to jest (e.g. a test file).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'express-par-fapi-pki-'))
let status = 1
try {
  const pki = spawnSync('bash', [join(root, 'test/support/pki.sh'), dir], { stdio: 'inherit' })
  if (pki.status !== 0) throw new Error('test/support/pki.sh failed: is openssl installed (scripts/install-system-deps.sh)?')
  const jest = spawnSync(
    process.execPath,
    ['--experimental-vm-modules', join(root, 'node_modules/jest/bin/jest.js'), '-c', join(root, 'jest.fapi.config.js'), ...process.argv.slice(2)],
    { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), EXPRESS_PAR_TEST_PKI: dir } },
  )
  status = jest.status ?? 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.exit(status)
