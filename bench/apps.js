// Starting the benchmarked apps, each in its own Node process, and talking to them over IPC.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const here = (path) => fileURLToPath(new URL(path, import.meta.url))

/**
 * One app process: `baseURL` once listening, then `configure()`, `storedSession(sid)`, `cpu()`,
 * `profileStart(phase)`, `profileStop(phase)`, `stop()`. `script` names the file in apps/ when it is not `name` (one app, two configurations).
 */
export async function startApp(name, { execArgv = [], script = name } = {}) {
  const child = fork(here(`./apps/${script}.js`), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const waiting = new Map()
  let nextId = 0
  const once = (type) =>
    new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.type !== type) return
        child.off('message', onMessage)
        child.off('exit', onExit)
        resolve(message)
      }
      const onExit = (code) => reject(new Error(`${name} exited (${code}) before sending "${type}"`))
      child.on('message', onMessage)
      child.once('exit', onExit)
    })
  child.on('message', (message) => {
    if (message.type === 'session' || message.type === 'cpu' || message.type === 'profiled') {
      waiting.get(message.id)?.(message)
      waiting.delete(message.id)
    }
  })
  /** One IPC question, resolved by the answer carrying its id. */
  const ask = (message) => {
    const id = nextId++
    return new Promise((resolve) => {
      waiting.set(id, resolve)
      child.send({ ...message, id })
    })
  }
  const { baseURL } = await once('listening')
  return {
    name,
    baseURL,
    pid: child.pid,
    async configure(setup) {
      const ready = once('ready')
      child.send({ type: 'configure', setup })
      await ready
    },
    /** The stored session record `sid` as JSON: its size in bytes (0 if none) and the record. */
    storedSession(sid) {
      return ask({ type: 'session', sid })
    },
    /** CPU time (user + system, µs) this process used so far, and the requests it received. */
    cpu() {
      return ask({ type: 'cpu' })
    },
    /** Starts a CPU profile (node:inspector) of the phase about to run. */
    profileStart(phase) {
      return ask({ type: 'profile-start', phase })
    },
    /** Stops it and writes bench/results/profiles/<name>-<phase>.cpuprofile; resolves to `{ file }`. */
    profileStop(phase) {
      return ask({ type: 'profile-stop', app: name, phase })
    },
    stop() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.send({ type: 'exit' })
      })
    },
  }
}

/** express-session's session id from its signed `connect.sid` cookie value (`s:<id>.<signature>`). */
export function sessionIdOf(cookieValue) {
  if (!cookieValue) return undefined
  const value = decodeURIComponent(cookieValue)
  return value.startsWith('s:') ? value.slice(2, value.lastIndexOf('.')) : undefined
}

/** Runs `phase` (an async function) with a CPU profile of each app in `profiled` around it alone. */
export async function profiling(apps, profiled, phase, run) {
  const names = Object.keys(apps).filter((name) => profiled.has(name))
  await Promise.all(names.map((name) => apps[name].profileStart(phase)))
  try {
    return await run()
  } finally {
    for (const { file } of await Promise.all(names.map((name) => apps[name].profileStop(phase)))) process.stderr.write(`profile: ${file}\n`)
  }
}
