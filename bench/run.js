// `npm run bench`: express-par beside express-openid-connect (v3, PAR + code flow) and a bare
// express-session app (the limit), each in its own process, against one in-process oidc-provider
// that requires PAR; and express-par's DPoP configuration (`express-par-dpop`, logins only) beside
// its secret-only one. See README "Performance". Knobs (environment): BENCH_LOGINS (100),
// BENCH_ROUNDS (4), BENCH_SECONDS (5), BENCH_WARMUP (2), BENCH_CONNECTIONS (32),
// BENCH_CPU_PROF (comma-separated app names to run under node --cpu-prof).
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { sessionIdOf, startApp } from './apps.js'
import { Browser } from './browser.js'
import { loginOnce } from './logins.js'
import { startBenchOP } from './op.js'
import { printReport, summarize } from './report.js'
import { hammer } from './throughput.js'

const setting = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}
const options = {
  logins: setting('BENCH_LOGINS', 100),
  rounds: setting('BENCH_ROUNDS', 4),
  seconds: setting('BENCH_SECONDS', 5),
  warmupSeconds: setting('BENCH_WARMUP', 2),
  connections: setting('BENCH_CONNECTIONS', 32),
}
const profiled = new Set((process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean))
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
const log = (line) => process.stderr.write(`${line}\n`)

/** Protocol-level ID token claims, dropped from the bare app's copy of the user (it serves claims as-is). */
const PROTOCOL_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 'at_hash', 'c_hash', 's_hash', 'sid', 'acr', 'amr', 'jti'])

/** The apps whose protected route is loaded. */
const NAMES = ['express-par', 'express-openid-connect', 'bare']
const LOGIN_APPS = ['express-par', 'express-openid-connect', 'express-par-dpop']
/** Every app process: the DPoP configuration runs apps/express-par.js with `dpop: true`. */
const PROCESSES = { 'express-par': 'express-par', 'express-openid-connect': 'express-openid-connect', bare: 'bare', 'express-par-dpop': 'express-par' }
const EXTRA_SETUP = { 'express-par-dpop': { dpop: true } }

const loadBefore = os.loadavg()
const apps = Object.fromEntries(
  await Promise.all(
    Object.entries(PROCESSES).map(async ([name, script]) => {
      const execArgv = profiled.has(name) ? ['--cpu-prof', `--cpu-prof-dir=${resultsDir}profiles`] : []
      return [name, await startApp(name, { execArgv, script })]
    }),
  ),
)
const clients = Object.fromEntries(LOGIN_APPS.map((name) => [name, { clientID: `bench-${name}`, clientSecret: `bench-secret-${name}-0123456789abcdef` }]))
const op = await startBenchOP(LOGIN_APPS.map((name) => ({ name, baseURL: apps[name].baseURL, ...clients[name], ...EXTRA_SETUP[name] })))

try {
  await Promise.all(
    Object.keys(PROCESSES).map((name) => apps[name].configure({ issuer: op.issuer, ...(clients[name] ?? { clientID: 'none', clientSecret: 'none' }), ...EXTRA_SETUP[name] })),
  )

  // First login per app, alone: sizes, and the discovery/JWKS fetches a cold start needs.
  const browsers = Object.fromEntries(Object.keys(PROCESSES).map((name) => [name, new Browser()]))
  const first = {}
  for (const name of LOGIN_APPS) {
    const before = op.fetches(name)
    const result = await loginOnce(apps[name], browsers[name], { measureSizes: true })
    const after = op.fetches(name)
    first[name] = { ...result, fetches: { discovery: after.discovery - before.discovery, jwks: after.jwks - before.jwks } }
    log(`${name}: first login ok (login ${result.loginMs.toFixed(1)} ms, callback ${result.callbackMs.toFixed(1)} ms)`)
  }

  // Then many logins, the apps taking turns (in a rotating order), each with a fresh app session.
  const timings = Object.fromEntries(LOGIN_APPS.map((name) => [name, { loginMs: [], callbackMs: [] }]))
  const fetchesBefore = Object.fromEntries(LOGIN_APPS.map((name) => [name, op.fetches(name)]))
  const cpuBefore = Object.fromEntries(await Promise.all(LOGIN_APPS.map(async (name) => [name, await apps[name].cpu()])))
  for (let i = 0; i < options.logins; i++) {
    const order = LOGIN_APPS.map((_, k) => LOGIN_APPS[(k + i) % LOGIN_APPS.length])
    for (const name of order) {
      const { loginMs, callbackMs } = await loginOnce(apps[name], browsers[name])
      timings[name].loginMs.push(loginMs)
      timings[name].callbackMs.push(callbackMs)
    }
  }
  for (const name of LOGIN_APPS) timings[name].cpuMicrosPerLogin = ((await apps[name].cpu()).cpuMicros - cpuBefore[name].cpuMicros) / options.logins
  const laterFetches = Object.fromEntries(
    LOGIN_APPS.map((name) => {
      const now = op.fetches(name)
      return [name, { discovery: now.discovery - fetchesBefore[name].discovery, jwks: now.jwks - fetchesBefore[name].jwks }]
    }),
  )
  log(`${options.logins} logins per app done`)

  // The bare app gets the user express-par stored, claims trimmed to the user's.
  const stored = first['express-par'].sizes.after.record.expressPar.default.login.auth
  const bareUser = { ...stored, claims: Object.fromEntries(Object.entries(stored.claims).filter(([k]) => !PROTOCOL_CLAIMS.has(k))) }
  const bareBrowser = browsers.bare
  await bareBrowser.request(`${apps.bare.baseURL}/`)
  const bareBefore = await apps.bare.storedSession('none')
  const seeded = await bareBrowser.request(`${apps.bare.baseURL}/bench-login`, { json: bareUser })
  if (seeded.status !== 204) throw new Error(`bare /bench-login answered ${seeded.status}`)
  const bareAfter = await apps.bare.storedSession(sessionIdOf(bareBrowser.cookies(apps.bare.baseURL).get('connect.sid')))
  first.bare = {
    sizes: {
      before: { cookieBytes: 0, storedBytes: bareBefore.bytes ?? 0 },
      after: { cookieBytes: Buffer.byteLength(bareBrowser.cookieHeader(apps.bare.baseURL)), storedBytes: bareAfter.bytes },
    },
  }

  // Every app must serve the protected route to its logged-in browser before it is measured.
  const cookies = {}
  for (const name of NAMES) {
    const page = await browsers[name].request(`${apps[name].baseURL}/protected`, { headers: { accept: 'application/json' } })
    if (page.status !== 200 || JSON.parse(page.body).sub !== 'alice') throw new Error(`${name} /protected answered ${page.status}: ${page.body.slice(0, 200)}`)
    cookies[name] = browsers[name].cookieHeader(apps[name].baseURL)
  }

  const load = { connections: options.connections }
  for (const name of NAMES) await hammer(apps[name], '/protected', cookies[name], { ...load, seconds: options.warmupSeconds })
  const throughput = Object.fromEntries(NAMES.map((name) => [name, []]))
  for (let round = 0; round < options.rounds; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length])
    for (const name of order) {
      const run = await hammer(apps[name], '/protected', cookies[name], { ...load, seconds: options.seconds })
      if (run.non2xx || run.errors) throw new Error(`${name}: ${run.non2xx} non-2xx answers and ${run.errors} errors under load`)
      throughput[name].push(run)
      log(`round ${round + 1} ${name}: ${Math.round(run.requestsPerSecond)} req/s, p99 ${run.p99Ms} ms, ${Math.round(run.cpuMicrosPerRequest)} µs CPU/request`)
    }
  }

  const results = summarize({ options, first, timings, laterFetches, throughput, load: { before: loadBefore, after: os.loadavg() } })
  printReport(results)
  await mkdir(resultsDir, { recursive: true })
  await writeFile(`${resultsDir}latest.json`, `${JSON.stringify(results, null, 2)}\n`)
  log(`written ${resultsDir}latest.json`)
} finally {
  await Promise.all(Object.keys(PROCESSES).map((name) => apps[name].stop()))
  await op.close()
}
