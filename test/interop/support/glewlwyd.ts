/**
 * Debian's Glewlwyd (package `glewlwyd`, 2.7.x, a C OpenID Provider) as a child process: a free
 * loopback port, its own config file, a SQLite database made from the packaged schema and a copy of
 * the packaged login web app, all in one temporary directory that close() removes. Nothing here is
 * a fake: the binary, its plugins and its login pages are the packaged ones.
 *
 * A missing Glewlwyd fails the suite with the fix in the message; it never skips.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { GlewlwydAdmin } from './glewlwyd-admin.js'

/** Where Debian's packages put what the tests need. */
export const GLEWLWYD_FILES = {
  binary: process.env.GLEWLWYD_PATH || '/usr/bin/glewlwyd',
  /** The SQLite schema with the default admin (admin / password), as dbconfig-common would load it. */
  schema: '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3',
  webapp: '/usr/share/glewlwyd/webapp',
  /** The web app's config.json (the packaged webapp/config.json is a link to a directory). */
  webappConfig: '/usr/share/glewlwyd/templates/config.json',
  modules: '/usr/lib/glewlwyd',
}

const INSTALL_HINT =
  'The interop tests run against Debian\'s Glewlwyd: install it with `bash scripts/install-system-deps.sh` ' +
  '(or `sudo apt-get install glewlwyd sqlite3`), or set GLEWLWYD_PATH to a Glewlwyd 2.7 binary.'

/** Throws, naming the fix, when a part of Glewlwyd the tests need is not installed. */
export function requireGlewlwyd(): void {
  const missing = Object.entries(GLEWLWYD_FILES)
    .filter(([, file]) => !existsSync(file))
    .map(([, file]) => file)
  if (spawnSync('sqlite3', ['-version'], { stdio: 'ignore' }).status !== 0) missing.push('sqlite3 (the command-line tool)')
  if (missing.length > 0) throw new Error(`Glewlwyd is not installed (missing: ${missing.join(', ')}). ${INSTALL_HINT}`)
}

/** A free TCP port on 127.0.0.1 (the OS picks it; Glewlwyd takes a port number, not a socket). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Glewlwyd's libconfig file. `use_secure_connection` is left out: even `false` makes it demand certificates. */
function configFile(dir: string, port: number): string {
  const mime = [
    ['.html', 'text/html'],
    ['.css', 'text/css'],
    ['.js', 'application/javascript'],
    ['.json', 'application/json'],
    ['.png', 'image/png'],
    ['.ico', 'image/x-icon'],
    ['.woff2', 'font/woff2'],
    ['.woff', 'font/woff'],
    ['.ttf', 'font/ttf'],
    ['.svg', 'image/svg+xml'],
    ['.map', 'application/octet-stream'],
  ]
  return `port=${port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
static_files_path="${path.join(dir, 'webapp')}/"
allow_origin="*"
log_mode="console"
log_level="${process.env.GLEWLWYD_LOG_LEVEL || 'WARNING'}"
cookie_domain="127.0.0.1"
cookie_secure=0
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${GLEWLWYD_FILES.modules}/user"
client_module_path="${GLEWLWYD_FILES.modules}/client"
user_auth_scheme_module_path="${GLEWLWYD_FILES.modules}/scheme"
plugin_module_path="${GLEWLWYD_FILES.modules}/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3" path = "${path.join(dir, 'glewlwyd.db')}" };
static_files_mime_types = (
${mime.map(([extension, type]) => `  { extension = "${extension}" mime_type = "${type}" compress = 0 }`).join(',\n')}
)
`
}

/** Keeps the last `limit` characters a stream wrote. */
function tail(limit: number) {
  let text = ''
  return {
    add(chunk: Buffer) {
      text = (text + chunk.toString('utf8')).slice(-limit)
    },
    get text() {
      return text
    },
  }
}

export interface Glewlwyd {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string
  /** The admin REST API, logged in as the packaged admin. */
  readonly admin: GlewlwydAdmin
  /** Milliseconds from spawning the process to its first answer. */
  readonly startupMs: number
  /** What Glewlwyd printed lately (for failure messages). */
  log(): string
  /** Stops the process (SIGTERM, then SIGKILL) and removes its directory. */
  close(): Promise<void>
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null

/**
 * Polls Glewlwyd's `/config` (its web app's settings) until it answers as Glewlwyd does, the
 * process exits (a port taken meanwhile), or `deadlineMs` passes.
 */
async function waitUntilServing(url: string, child: ChildProcess, deadlineMs: number): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + deadlineMs
  while (Date.now() < deadline) {
    if (exited(child)) return 'exited'
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) })
      const body = (await response.json().catch(() => undefined)) as { api_prefix?: unknown } | undefined
      if (response.ok && body?.api_prefix === 'api' && !exited(child)) return 'ready'
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`Glewlwyd did not answer ${url} within ${deadlineMs} ms.`)
}

function stop(child: ChildProcess): Promise<void> {
  if (exited(child)) return Promise.resolve()
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

/**
 * Starts Glewlwyd in a new temporary directory and logs in to its admin API. The port is picked
 * free just before the start; if another process takes it first, Glewlwyd exits and is started
 * again on another port.
 */
export async function startGlewlwyd(): Promise<Glewlwyd> {
  requireGlewlwyd()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'express-par-glewlwyd-'))
  const children = new Set<ChildProcess>()
  // Safety net for a test run that ends without afterAll (a crash): no process or directory stays.
  const onExit = () => {
    for (const child of children) child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
  process.once('exit', onExit)
  const cleanUp = async () => {
    await Promise.all([...children].map(stop))
    process.off('exit', onExit)
    await rm(dir, { recursive: true, force: true })
  }
  try {
    const webapp = path.join(dir, 'webapp')
    // Links resolved: Glewlwyd refuses to serve files that link outside static_files_path.
    await cp(GLEWLWYD_FILES.webapp, webapp, { recursive: true, dereference: true, filter: (source) => path.basename(source) !== 'config.json' })
    await cp(GLEWLWYD_FILES.webappConfig, path.join(webapp, 'config.json'))
    const schema = spawnSync('sqlite3', [path.join(dir, 'glewlwyd.db'), `.read ${GLEWLWYD_FILES.schema}`], { encoding: 'utf8' })
    if (schema.status !== 0) throw new Error(`sqlite3 could not load ${GLEWLWYD_FILES.schema}: ${schema.stderr}`)

    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const config = path.join(dir, 'glewlwyd.conf')
      await writeFile(config, configFile(dir, port))
      const output = tail(20_000)
      const started = performance.now()
      const child = spawn(GLEWLWYD_FILES.binary, ['--config-file', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
      children.add(child)
      child.stdout!.on('data', output.add)
      child.stderr!.on('data', output.add)
      child.once('exit', () => children.delete(child))
      const origin = `http://127.0.0.1:${port}`
      const state = await waitUntilServing(`${origin}/config`, child, 10_000)
      if (state === 'exited') {
        if (attempt < 3 && /bind|address already in use|Error starting/i.test(output.text)) continue
        throw new Error(`Glewlwyd exited during start-up (code ${child.exitCode}, signal ${child.signalCode}):\n${output.text}`)
      }
      const startupMs = performance.now() - started
      const admin = await GlewlwydAdmin.login(origin)
      return { origin, admin, startupMs, log: () => output.text, close: cleanUp }
    }
  } catch (err) {
    await cleanUp()
    throw err
  }
}
