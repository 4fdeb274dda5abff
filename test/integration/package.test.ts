/**
 * What `npm pack` makes of a fresh clone, installed into a new app as the README says: its files,
 * its source maps, imports from ESM, CommonJS and strict TypeScript, and the README's Quick start
 * run as pasted against `npm run op`, through a login. Packs once for the whole file.
 */

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { dirname, join, relative, resolve } from 'node:path'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'
import { installedVersion, newAppWith, packFreshClone, root, run, stopGroup, userEnv, type Packed } from '../support/packed.js'

let packed: Packed
let app: string

beforeAll(async () => {
  packed = await packFreshClone()
  app = await newAppWith(packed, ['@types/express', '@types/express-session', '@types/node'].map((name) => `${name}@${installedVersion(name)}`))
}, 180_000)
afterAll(() => packed?.cleanup())

/** Every file under `dir`, relative to it. */
function walk(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? walk(path, base) : [relative(base, path)]
  })
}

describe('npm pack on a fresh clone', () => {
  test('builds first, then packs exactly the build, its sources, the README, the LICENSE and package.json', () => {
    const sources = walk(join(packed.clone, 'lib'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => file.replace(/\.ts$/, ''))
    expect(sources.length).toBeGreaterThan(20)
    const expected = [
      'LICENSE',
      'README.md',
      'package.json',
      ...sources.flatMap((file) => [`lib/${file}.ts`, `dist/${file}.js`, `dist/${file}.js.map`, `dist/${file}.d.ts`, `dist/${file}.d.ts.map`]),
    ].sort()
    expect(packed.files).toEqual(expected)
  })

  test('every source map in the installed package resolves to a file shipped with it', () => {
    const pkg = join(app, 'node_modules', 'express-par')
    const maps = walk(pkg).filter((file) => file.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    expect(maps).toHaveLength(packed.files.filter((file) => file.endsWith('.map')).length)
    const unresolved = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(pkg, map), 'utf8')) as { sources: string[] }
      expect(sources.length).toBeGreaterThan(0)
      return sources.map((source) => resolve(dirname(join(pkg, map)), source)).filter((path) => !path.startsWith(pkg) || !existsSync(path))
    })
    expect(unresolved).toEqual([])
  })

  test('ships the MIT LICENSE that package.json names', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'express-par', 'package.json'), 'utf8'))
    expect(manifest.license).toBe('MIT')
    expect(readFileSync(join(app, 'node_modules', 'express-par', 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} /)
  })
})

describe('installed from the tarball into a new app', () => {
  // Exercises the package, not just its presence: auth() validates, requiresAuth() is a middleware.
  const probe = `
    let error
    try { auth({ clientId: 'x' }) } catch (e) { error = { code: e.code, problems: e.message.split('\\n- ').length - 1 } }
    console.log(JSON.stringify({ auth: typeof auth, requiresAuth: typeof requiresAuth(), ExpressParError: typeof ExpressParError, status: ERROR_STATUS.ERR_LOGIN_REFUSED, error }))
  `
  const expected = { auth: 'function', requiresAuth: 'function', ExpressParError: 'function', status: 400, error: { code: 'ERR_CONFIG_INVALID', problems: 5 } }

  test('imports from ESM', async () => {
    writeFileSync(join(app, 'esm-probe.js'), `import { auth, requiresAuth, ExpressParError, ERROR_STATUS } from 'express-par'\n${probe}`)
    const { stdout, stderr } = await run(process.execPath, ['esm-probe.js'], { cwd: app })
    expect(JSON.parse(stdout)).toEqual(expected)
    expect(stderr).toBe('')
  })

  test('requires from CommonJS (Node >= 20.19 loads ES modules with require)', async () => {
    writeFileSync(join(app, 'cjs-probe.cjs'), `const { auth, requiresAuth, ExpressParError, ERROR_STATUS } = require('express-par')\n${probe}`)
    const { stdout } = await run(process.execPath, ['cjs-probe.cjs'], { cwd: app })
    expect(JSON.parse(stdout)).toEqual(expected)
  })

  test('npx express-par keygen --format jwk --out key.json > jwks.json: two JSON files, the private one mode 0600', async () => {
    const { stdout } = await run('npx', ['--no', 'express-par', 'keygen', '--format', 'jwk', '--out', 'key.json'], { cwd: app })
    const jwks = JSON.parse(stdout) as { keys: Array<{ kid: string; d?: string }> }
    const privateJwk = JSON.parse(readFileSync(join(app, 'key.json'), 'utf8')) as { kid: string; d?: string }
    expect(privateJwk.d).toEqual(expect.any(String))
    expect(jwks.keys.map(({ kid, d }) => ({ kid, d }))).toEqual([{ kid: privateJwk.kid, d: undefined }])
    expect(statSync(join(app, 'key.json')).mode & 0o777).toBe(0o600)
  }, 30_000)

  test('type-checks from strict TypeScript (NodeNext), the standard claims typed and extendable', async () => {
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false }, files: ['app.ts'] }),
    )
    writeFileSync(
      join(app, 'app.ts'),
      `import express from 'express'
import session from 'express-session'
import { auth, requiresAuth, type AuthOptions, type ExpressParError, type UserClaims } from 'express-par'

// An app adds the claims its OP sends.
declare module 'express-par' {
  interface UserClaims {
    tenant_id?: string
  }
}

const options: AuthOptions = { issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'app', clientSecret: 'secret' }
const app = express()
app.use(session({ secret: 'a-long-session-secret', resave: false, saveUninitialized: false }))
app.use(auth(options))
app.get('/me', requiresAuth(), (req, res) => {
  const user: UserClaims | undefined = req.oidc.user
  const sub: string | undefined = user?.sub
  const email: string | undefined = user?.email
  const verified: boolean | undefined = user?.email_verified
  const tenant: string | undefined = req.oidc.user?.tenant_id
  const issuer: string | undefined = req.oidc.idTokenClaims?.iss
  const tenantInIdToken: string | undefined = req.oidc.idTokenClaims?.tenant_id
  // @ts-expect-error sub is a string
  const wrong: number | undefined = user?.sub
  // @ts-expect-error other claims are unknown, not any
  const other: string = user?.custom
  res.json({ sub, email, verified, tenant, issuer, tenantInIdToken, wrong, other, loggedIn: req.oidc.isAuthenticated() })
})
app.use((err: ExpressParError, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
  res.status(err.status).send(err.code)
})
// @ts-expect-error an unknown option is a type error too
auth({ ...options, clientId: 'typo' })
`,
    )
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app })
  }, 60_000)
})

/** The fenced block right after `<!-- <marker>... -->` in README.md. */
function readmeBlock(marker: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const match = new RegExp(`<!-- ${marker}[^>]*-->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\`\\n`).exec(readme)
  if (!match) throw new Error(`README.md has no \`<!-- ${marker} ... -->\` comment followed by a \`\`\`js block: the Quick start test runs that block. Put the comment back above the Quick start's app.js.`)
  return match[1]!
}

/** Resolves with the first line of `child`'s stdout that matches, or rejects (with its output) when it exits first. */
function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<{ line: string; output: string }> {
  return new Promise((resolvePromise, reject) => {
    let output = ''
    let errors = ''
    child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()))
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const line = output.split('\n').find((l) => pattern.test(l))
      if (line !== undefined) {
        child.stdout!.off('data', onData)
        resolvePromise({ line, output })
      }
    }
    child.stdout!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${what} exited (code ${code}) before printing ${pattern}:\n${output}\n${errors}`)))
  })
}

/** A port that was free a moment ago (the app must know it before the OP registers its redirect URI). */
async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolvePromise) => server.listen(0, resolvePromise))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()))
  return port
}

describe("the README's Quick start, as pasted, against npm run op", () => {
  let op: ChildProcess
  let quickStart: ChildProcess
  let appErrors = ''
  let baseURL: string

  beforeAll(async () => {
    writeFileSync(join(app, 'app.js'), readmeBlock('quick-start app.js'))
    baseURL = `http://localhost:${await freePort()}`
    // Step 1 of the Quick start, in the fresh clone: `npm run op`, registering the app's address.
    op = spawn('npm', ['run', '--silent', 'op'], { cwd: packed.clone, env: userEnv({ BASE_URL: baseURL, OP_PORT: '0' }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const { output } = await waitForLine(op, /^SESSION_SECRET=/, 'npm run op')
    // Step 2: its .env lines into my-app/.env, then `node --env-file=.env app.js`.
    const envLines = output.slice(output.indexOf("# Your app's .env")).split('\n').filter((line) => /^[A-Z_]+=/.test(line))
    expect(envLines.map((line) => line.split('=')[0])).toEqual(['ISSUER_BASE_URL', 'CLIENT_ID', 'CLIENT_SECRET', 'BASE_URL', 'PORT', 'SESSION_SECRET'])
    expect(envLines).toContain(`BASE_URL=${baseURL}`)
    writeFileSync(join(app, '.env'), `${envLines.join('\n')}\n`)
    quickStart = spawn(process.execPath, ['--env-file=.env', 'app.js'], { cwd: app, env: userEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
    quickStart.stderr!.on('data', (chunk: Buffer) => (appErrors += chunk.toString()))
    await waitForLine(quickStart, new RegExp(`^Open ${baseURL}$`), 'the Quick start app')
  }, 60_000)
  afterAll(() => {
    quickStart?.kill()
    stopGroup(op)
  })

  test('logs in as alice at the local OP: home page, login, profile, logout', async () => {
    const browser = new TestBrowser()
    const home = await browser.request(`${baseURL}/`)
    expect(home.status).toBe(200)
    const loginLink = /href="(\/login[^"]*)"/.exec(home.body)?.[1]
    expect(loginLink).toBe('/login?returnTo=/profile')

    const login = await browser.request(`${baseURL}${loginLink}`)
    expect(login.status).toBe(302)
    expect(new URL(login.headers.get('location')!).searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/) // PAR
    const callback = await authorizeAtOP(browser, login.headers.get('location')!, `${baseURL}/callback`, { login: 'alice' })
    const afterCallback = await browser.request(callback)
    expect({ status: afterCallback.status, location: afterCallback.headers.get('location') }).toEqual({ status: 302, location: '/profile' })

    const profile = await browser.request(`${baseURL}/profile`, { headers: { accept: 'application/json' } })
    expect(profile.status).toBe(200)
    expect(JSON.parse(profile.body)).toMatchObject({ sub: 'alice', name: 'Alice Example', email: 'alice@example.com' })
    expect((await browser.request(`${baseURL}/`)).body).toContain('<a href="/logout">Log out</a>')

    expect((await browser.request(`${baseURL}/logout`, { headers: { 'sec-fetch-site': 'same-origin' } })).status).toBe(302) // the page's link
    expect((await browser.request(`${baseURL}/`)).body).toContain('Log in')
    expect(appErrors).toBe('')
  })

  test('/callback opened directly ends in its error handler, with the code and message on the console, not a stack trace', async () => {
    const page = await new TestBrowser().request(`${baseURL}/callback`)
    expect(page.status).toBe(400)
    expect(page.body).toBe('Login failed. <a href="/login">Try again</a>')
    // The app's console line travels through a pipe: it may arrive just after the answer.
    for (const deadline = Date.now() + 5000; !appErrors.endsWith('\n') && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(appErrors).toMatch(/^ERR_CALLBACK_INVALID: \S.+\n$/)
    appErrors = ''
  })

  test('uses the error handler of the Errors section, word for word', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    const errors = readme.slice(readme.indexOf('<!-- errors -->'))
    const handler = /```js\n([\s\S]*?)```\n/.exec(errors)![1]!
    expect(readmeBlock('quick-start app.js')).toContain(handler)
  })
})
