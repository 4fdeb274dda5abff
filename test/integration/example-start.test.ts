import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'
import { eventProblems } from '../support/event-audit.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** Holds a free port on `localhost` (the host `npm start` and `npm run op` listen on) until closed. */
async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, 'localhost', resolve))
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) }
}

/** Runs `node <script>` with `env` until it exits; its exit code and output. */
function run(script: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill(), 15000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

// `npm start` is `npm run build && node example-app/start.js`; `npm test` has built already.
describe('a port already in use names the variable that changes it', () => {
  test.each<[string, string, Record<string, string>, string, string]>([
    ['npm start: the app port', 'example-app/start.js', { OP_PORT: '0' }, 'PORT', 'npm start'],
    ['npm start: the local OP port', 'example-app/start.js', { PORT: '0' }, 'OP_PORT', 'npm start'],
    ['npm run op', 'example-app/op.js', {}, 'OP_PORT', 'npm run op'],
  ])('%s', async (_name, script, env, variable, command) => {
    const taken = await takenPort()
    try {
      const result = await run(script, { ...env, [variable]: String(taken.port), ISSUER_BASE_URL: '', REDIS_URL: '' })
      expect(result.code).toBe(1)
      expect(result.stderr).toContain(
        `Port ${taken.port} is already in use (another program, or another ${command}, listens on it). Set ${variable} to a free port, e.g. ${variable}=${taken.port + 10} ${command}`,
      )
      expect(result.stderr).not.toMatch(/\bat .*:\d+:\d+/) // a sentence, not a stack trace
    } finally {
      await taken.close()
    }
  })
})

test('npm start logs every express-par event as one JSON line, with nothing secret in it', async () => {
  const child = spawn(process.execPath, ['example-app/start.js'], {
    cwd: root,
    env: { ...process.env, PORT: '0', OP_PORT: '0', ISSUER_BASE_URL: '', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  try {
    const deadline = Date.now() + 15000
    while (!/open (http:\/\/localhost:\d+)/.test(stdout) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    const baseURL = /open (http:\/\/localhost:\d+)/.exec(stdout)![1]!
    const browser = new TestBrowser()
    const start = await browser.request(`${baseURL}/login`)
    const callback = await authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`)
    expect((await browser.request(callback)).status).toBe(302)
    while (!stdout.includes('"event":"callback"') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    const events = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(events.map((e) => [e.event, e.outcome])).toEqual([
      ['login', 'success'],
      ['callback', 'success'],
    ])
    expect(events[1]).toMatchObject({ sub: 'alice', clientID: 'example-app', name: 'default', at: expect.any(String) })
    for (const { at: _at, event: _name, ...message } of events) expect(eventProblems('npm start', message)).toEqual([])
  } finally {
    child.kill()
  }
})
