/**
 * A real redis-server (the Debian package) for the scale tests: a free loopback port, no
 * persistence (`--save ''`, no AOF), so a restart loses every session, as a Redis without
 * persistence does in production.
 */

import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import net from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'

const READY_ATTEMPTS = 200
const READY_INTERVAL_MS = 25

export interface RedisServer {
  port: number
  url: string
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port, empty. */
  start(): Promise<void>
}

/** A port the kernel says is free on 127.0.0.1 (port 0), released for redis-server to take. */
async function freePort(): Promise<number> {
  const server = net.createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** One PING over a raw socket: true on `+PONG`. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1000, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}

function spawnRedis(port: number): { child: ChildProcess; failed: Promise<never> } {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk) => (stderr += chunk.toString()))
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'ENOENT'
          ? new Error('redis-server is not installed: the scale tests need it (run scripts/install-system-deps.sh, or apt-get install redis-server).')
          : err,
      ),
    )
    child.once('exit', (code) => reject(new Error(`redis-server exited (code ${code}) before it was ready: ${stderr}`)))
  })
  failed.catch(() => {}) // observed by waitReady; an exit after readiness is expected on stop()
  return { child, failed }
}

async function waitReady(port: number, failed: Promise<never>): Promise<void> {
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    const ready = await Promise.race([ping(port), failed])
    if (ready) return
    await delay(READY_INTERVAL_MS)
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${(READY_ATTEMPTS * READY_INTERVAL_MS) / 1000} s`)
}

/** Starts redis-server on a free loopback port and resolves once it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort()
  let current: ChildProcess | undefined

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      const { child, failed } = spawnRedis(port)
      current = child
      try {
        await waitReady(port, failed)
      } catch (err) {
        child.kill('SIGKILL')
        current = undefined
        throw err
      }
    },
    async stop() {
      const child = current
      current = undefined
      if (!child || child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
  await server.start()
  return server
}
