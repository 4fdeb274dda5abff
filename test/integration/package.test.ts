import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))

// `npm test` builds first; this checks what a user's plain Node ESM script gets from the build.
test('the built package imports by name from a plain Node ESM script', () => {
  const script = `
    import { auth, requiresAuth, ExpressParError } from 'express-par'
    let code
    try { auth({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientId: 'x' }) } catch (e) { code = e.code }
    console.log(JSON.stringify({ auth: typeof auth, requiresAuth: typeof requiresAuth, error: typeof ExpressParError, code }))
  `
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' })
  expect(JSON.parse(out)).toEqual({ auth: 'function', requiresAuth: 'function', error: 'function', code: 'ERR_CONFIG_INVALID' })
})

test('exports point at the built JavaScript and its types', () => {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'))
  expect(pkg.type).toBe('module')
  for (const file of [pkg.exports['.'].default, pkg.exports['.'].types]) expect(existsSync(`${root}/${file}`)).toBe(true)
})
