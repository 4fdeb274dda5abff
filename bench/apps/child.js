// What the benchmark apps share: each runs in its own process, listens on a free loopback
// port, tells the parent (over the fork IPC channel) where it is, waits for the OP's coordinates,
// then builds its Express app. Bench-only introspection (the size of a stored session) also goes
// over IPC, so the apps carry no extra routes or middleware on the measured path.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import { startProfile, stopProfile } from './profiler.js'

/**
 * CPU time (user + system, µs) of this process's main thread so far, from Linux's
 * /proc/self/task/<pid>/stat (clock ticks, 100 per second); null elsewhere. The rest of
 * `process.cpuUsage()` ran on other threads: V8's (parallel and concurrent GC, the optimizing
 * compiler) and libuv's, which a CPU profile of the main thread does not show.
 */
function mainThreadMicros() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return null
  }
}

/**
 * @param {(setup: { baseURL: string, issuer: string, clientID: string, clientSecret: string, name: string, redisURL?: string }) => Promise<{ app: import('express').Express, store?: import('express-session').Store }>} build
 */
export async function runChild(build) {
  const server = http.createServer()
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseURL = `http://127.0.0.1:${server.address().port}`
  let store
  let requests = 0
  server.on('request', () => requests++)

  process.on('message', async (message) => {
    if (message.type === 'configure') {
      const built = await build({ baseURL, ...message.setup })
      store = built.store
      server.on('request', built.app)
      process.send({ type: 'ready' })
    } else if (message.type === 'session') {
      if (!store) return process.send({ type: 'session', id: message.id, bytes: null })
      store.get(message.sid, (err, session) => {
        const bytes = err || !session ? 0 : Buffer.byteLength(JSON.stringify(session))
        process.send({ type: 'session', id: message.id, bytes, record: session ?? null })
      })
    } else if (message.type === 'cpu') {
      const { user, system } = process.cpuUsage()
      process.send({ type: 'cpu', id: message.id, cpuMicros: user + system, mainThreadMicros: mainThreadMicros(), requests })
    } else if (message.type === 'profile-start') {
      await startProfile()
      process.send({ type: 'profiled', id: message.id })
    } else if (message.type === 'profile-stop') {
      const file = await stopProfile(message.app, message.phase)
      process.send({ type: 'profiled', id: message.id, file })
    } else if (message.type === 'exit') {
      server.closeAllConnections()
      server.close(() => process.exit(0))
    }
  })
  process.send({ type: 'listening', baseURL })
}

/** The app's error handler: the benchmark treats any error answer as a failed run. */
export function errorHandler(err, _req, res, _next) {
  if ((err.status ?? 500) >= 500) console.error(err)
  res.status(err.status ?? 500).json({ code: err.code ?? 'ERR_UNEXPECTED', message: err.message })
}
