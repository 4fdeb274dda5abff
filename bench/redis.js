// `--store redis`: a real redis-server for the benchmark, started on a free loopback port with no
// persistence, as test/scale/support/redis-server.ts does for the scale tests.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

async function freePort() {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const done = (ok) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => done(chunk.toString().startsWith('+PONG')))
  })
}

/** Starts redis-server; resolves to `{ url, stop() }` once it answers PING. */
export async function startRedis() {
  const port = await freePort()
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const failed = new Promise((_, reject) => {
    child.once('error', (err) => reject(err.code === 'ENOENT' ? new Error('redis-server is not installed: run scripts/install-system-deps.sh') : err))
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${stderr}`)))
  })
  failed.catch(() => {})
  process.once('exit', () => child.kill()) // never outlive the bench, even when it fails
  for (let attempt = 0; ; attempt++) {
    if (await Promise.race([ping(port), failed])) break
    if (attempt === 200) throw new Error(`redis-server on port ${port} did not answer PING`)
    await delay(25)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
