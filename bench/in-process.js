// `npm run bench:in-process`: what express-par costs a request, without the network and the load
// generator of `npm run bench`. Each app runs in its own process (its own JIT state and hidden
// classes, as in production) and is driven through in-memory sockets, one request at a time, in
// blocks the apps take turns at (the order reversed every other round):
//
// - bare: express-session and a route reading a stored user (as bench/apps/bare.js);
// - bare again: the same app in another process, the control: what two equal apps differ by;
// - bare + no-op layer: bare behind `app.use((req, res, next) => next())`, what any middleware
//   registered with app.use() costs;
// - bare, express-par's record: bare reading the same user from where express-par keeps it
//   (`expressPar.default.login.auth`), what the session's shape costs;
// - auth() passed through: `auth()` mounted, the route that of the record variant: what express-par
//   costs a request it only passes through (as `/health`);
// - express-par: `auth()`, `requiresAuth()` and `res.json(req.oidc.user)`.
//
// For `/protected` and `/health` it prints app CPU per request (median over rounds, and each
// round's ratio to bare in that round) and bytes allocated per request (V8's sampling heap
// profiler at a 128-byte interval, keeping what minor and major GCs collected: unlike CPU time,
// not noisy), and writes bench/results/in-process.json. Knobs: BENCH_INPROC_REQUESTS (4000 per
// block), BENCH_INPROC_ROUNDS (8). The sessions are written directly (no OP): the record
// express-par's callback stores, with a bench-sized ID token; bare stores the same user.
import { fork } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import { Duplex } from 'node:stream'
import { fileURLToPath } from 'node:url'
import express from 'express'
import session from 'express-session'
import { auth, requiresAuth } from 'express-par'
import { median, round, spread } from './stats.js'

const setting = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}
const REQUESTS = setting('BENCH_INPROC_REQUESTS', 4000)
const ROUNDS = setting('BENCH_INPROC_ROUNDS', 8)
const ROUTES = ['/protected', '/health']

/** `0.054` as `+5.4%`. */
const percent = (fraction) => `${fraction >= 0 ? '+' : ''}${round(fraction * 100, 1)}%`

const claims = { sub: 'alice', name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com', email_verified: true }

/** The stored login of a user: what express-par's callback stores, and what bare stores as its user. */
function storedAuth(now) {
  return { idToken: 'eyJ'.padEnd(800, 'x'), claims, accessToken: 'at'.padEnd(43, 'y'), tokenType: 'bearer', expiresAt: now + 3600, scope: 'openid profile email' }
}

const VARIANTS = {
  bare: {},
  'bare again': {},
  'bare + no-op layer': { layer: true },
  "bare, express-par's record": { record: 'expressPar' },
  'auth() passed through': { auth: true, record: 'expressPar' },
  'express-par': { auth: true, par: true },
}

const authOptions = { issuerBaseURL: 'https://op.example', baseURL: 'http://127.0.0.1', clientID: 'bench', clientSecret: 'bench-secret-0123456789abcdef0123456789', allowInsecureRequests: true }

function build({ auth: withAuth = false, par = false, layer = false, record = withAuth ? 'expressPar' : 'user' }) {
  const app = express()
  app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false }))
  if (layer) app.use((req, res, next) => next())
  if (withAuth) app.use(auth(authOptions))
  if (par) {
    app.get('/protected', requiresAuth(), (req, res) => res.json(req.oidc.user))
  } else {
    const user = record === 'user' ? (s) => s.user : (s) => s.expressPar?.default?.login?.auth
    app.get('/protected', (req, res, next) => (user(req.session) ? next() : res.sendStatus(401)), (req, res) => res.json(user(req.session).claims))
  }
  app.get('/health', (req, res) => res.json({ ok: true }))
  app.get('/seed', (req, res, next) =>
    req.session.regenerate((err) => {
      if (err) return next(err)
      const now = Math.floor(Date.now() / 1000)
      const login = { auth: storedAuth(now), id: '1d82c6c3-6751-4b3a-904d-1f5dfc02bda2', at: now, seen: now, gen: 0 }
      if (record === 'expressPar') req.session.expressPar = { default: { login } }
      else req.session.user = login.auth
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.sendStatus(204)))
    }),
  )
  return app
}

/** One GET through `app` over an in-memory socket; resolves with the finished response. */
function call(app, path, cookie) {
  return new Promise((resolve) => {
    const socket = new Duplex({ read() {}, write: (chunk, encoding, done) => done(), writev: (chunks, done) => done() })
    socket.remoteAddress = '127.0.0.1'
    const req = new http.IncomingMessage(socket)
    Object.assign(req, { method: 'GET', url: path, httpVersion: '1.1', httpVersionMajor: 1, httpVersionMinor: 1, complete: true })
    req.headers = { host: '127.0.0.1', accept: 'application/json', ...(cookie && { cookie }) }
    req.push(null)
    const res = new http.ServerResponse(req)
    res.assignSocket(socket)
    res.on('finish', () => resolve(res))
    app(req, res)
  })
}

async function cpuPerRequest(app, path, cookie) {
  const before = process.cpuUsage()
  for (let i = 0; i < REQUESTS; i++) await call(app, path, cookie)
  const used = process.cpuUsage(before)
  return (used.user + used.system) / REQUESTS
}

async function bytesPerRequest(inspector, app, path, cookie) {
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 128, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true })
  for (let i = 0; i < REQUESTS; i++) await call(app, path, cookie)
  const { profile } = await inspector.post('HeapProfiler.stopSampling')
  let total = 0
  const walk = (node) => {
    total += node.selfSize
    for (const child of node.children) walk(child)
  }
  walk(profile.head)
  return total / REQUESTS
}

/** In a child process: one variant's app, answering the parent's requests for a block of measurements. */
async function serveVariant(name) {
  const app = build(VARIANTS[name])
  const seeded = await call(app, '/seed')
  const cookie = String(seeded.getHeader('set-cookie')).split(';')[0]
  for (const path of ROUTES) {
    const check = await call(app, path, cookie)
    if (check.statusCode !== 200) throw new Error(`${name} ${path} answered ${check.statusCode}`)
  }
  const inspector = new Session()
  inspector.connect()
  process.on('message', async ({ id, measure, path }) => {
    const value = measure === 'cpu' ? await cpuPerRequest(app, path, cookie) : await bytesPerRequest(inspector, app, path, cookie)
    process.send({ id, value })
  })
  process.send({ ready: true })
}

/** Starts variant `name` in its own process (each app its own JIT and hidden classes, as in production); `measure(kind, path)` runs one block there. */
async function startVariant(name) {
  const child = fork(fileURLToPath(import.meta.url), [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const answers = new Map()
  let nextId = 0
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it was ready`)))
  })
  child.on('message', ({ id, value }) => answers.get(id)?.(value))
  return {
    name,
    measure: (measure, path) =>
      new Promise((resolve) => {
        const id = nextId++
        answers.set(id, resolve)
        child.send({ id, measure, path })
      }),
    stop: () => child.kill(),
  }
}

async function measureAll() {
  const apps = await Promise.all(Object.keys(VARIANTS).map(startVariant))
  const results = { date: new Date().toISOString(), machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model }, options: { requests: REQUESTS, rounds: ROUNDS }, routes: {} }
  try {
    for (const path of ROUTES) {
      for (const app of apps) await app.measure('cpu', path) // warm-up
      const cpu = Object.fromEntries(apps.map(({ name }) => [name, []]))
      for (let r = 0; r < ROUNDS; r++) {
        const order = r % 2 === 0 ? apps : [...apps].reverse()
        for (const app of order) cpu[app.name].push(await app.measure('cpu', path))
      }
      const route = {}
      for (const app of apps) {
        route[app.name] = {
          cpuMicrosPerRequest: round(median(cpu[app.name]), 1),
          capacityVsBare: spread(cpu[app.name].map((micros, r) => cpu.bare[r] / micros), 3),
          bytesPerRequest: Math.round(await app.measure('bytes', path)),
        }
      }
      results.routes[path] = route
      process.stdout.write(`\n${path}: ${REQUESTS} requests per block, ${ROUNDS} rounds\n`)
      process.stdout.write(`${'app'.padEnd(30)}${'µs CPU/request'.padStart(16)}${'capacity vs bare (IQR)'.padStart(28)}${'bytes/request'.padStart(16)}${'vs bare'.padStart(10)}\n`)
      for (const [name, f] of Object.entries(route)) {
        const c = f.capacityVsBare
        process.stdout.write(`${name.padEnd(30)}${String(f.cpuMicrosPerRequest).padStart(16)}${`${c.median} (${c.p25}–${c.p75})`.padStart(28)}${String(f.bytesPerRequest).padStart(16)}${percent(f.bytesPerRequest / route.bare.bytesPerRequest - 1).padStart(10)}\n`)
      }
    }
  } finally {
    for (const app of apps) app.stop()
  }
  const out = fileURLToPath(new URL('./results/in-process.json', import.meta.url))
  await mkdir(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true })
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`)
  process.stdout.write(`\nwritten ${out}\n`)
}

const variant = process.argv[2]
if (variant === undefined) await measureAll()
else if (VARIANTS[variant]) await serveVariant(variant)
else throw new Error(`no variant "${variant}" (variants: ${Object.keys(VARIANTS).join(', ')})`)
