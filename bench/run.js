// `npm run bench`: express-par in several configurations beside express-openid-connect (v3, PAR +
// code flow) and a bare express-session app (the limit), each in its own process, against one
// in-process oidc-provider that requires PAR. Every phase runs in rounds, the apps in a shuffled
// (seeded) order per round; ratios are taken per round. Knobs: bench/config.js; README "Performance".
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair } from 'jose'
import { profiling, sessionIdOf, startApp } from './apps.js'
import { Browser } from './browser.js'
import { CONFIGS, HEALTH_APPS, LOGIN_APPS, PROTECTED_APPS, readOptions } from './config.js'
import { firstLogins, loginRounds } from './login-rounds.js'
import { SIGNING_ALG, startBenchOP } from './op.js'
import { mulberry32 } from './prng.js'
import { saveResults, writeReadme } from './readme-table.js'
import { startRedis } from './redis.js'
import { printReport } from './report.js'
import { summarize } from './summarize.js'
import { hammerRounds } from './throughput.js'

const options = readOptions()
const profiled = new Set((process.env.BENCH_CPU_PROF ?? '').split(',').filter(Boolean))
for (const name of profiled) if (!CONFIGS[name]) throw new Error(`BENCH_CPU_PROF: no app "${name}" (apps: ${Object.keys(CONFIGS).join(', ')})`)
const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
const log = (line) => process.stderr.write(`${line}\n`)
log(`bench: seed ${options.seed} (BENCH_SEED=${options.seed} reproduces the order), store ${options.store}, ${options.rounds} rounds`)
const random = mulberry32(options.seed)

/** Protocol-level ID token claims, dropped from the bare app's copy of the user (it serves claims as-is). */
const PROTOCOL_CLAIMS = new Set(['aud', 'iss', 'iat', 'exp', 'nbf', 'nonce', 'azp', 'auth_time', 'at_hash', 'c_hash', 's_hash', 'sid', 'acr', 'amr', 'jti'])

/** A PS256 key pair per private_key_jwt client: the PEM for the app, the public JWK (kid: its thumbprint, as keygen makes it) for the OP. */
async function keyPair() {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
  const jwk = await exportJWK(publicKey)
  return { pem: await exportPKCS8(privateKey), jwk: { ...jwk, alg: SIGNING_ALG, use: 'sig', kid: await calculateJwkThumbprint(jwk) } }
}

const loadBefore = os.loadavg()
const redis = options.store === 'redis' ? await startRedis() : undefined
const names = Object.keys(CONFIGS)
const keys = Object.fromEntries(await Promise.all(names.filter((n) => CONFIGS[n].key).map(async (n) => [n, await keyPair()])))
const apps = Object.fromEntries(await Promise.all(names.map(async (name) => [name, await startApp(name, { script: CONFIGS[name].script })])))
const clients = Object.fromEntries(LOGIN_APPS.map((name) => [name, { clientID: `bench-${name}`, clientSecret: `bench-secret-${name}-0123456789abcdef` }]))
const op = await startBenchOP(LOGIN_APPS.map((name) => ({ name, baseURL: apps[name].baseURL, ...clients[name], dpop: CONFIGS[name].dpop, jar: CONFIGS[name].jar, jwk: keys[name]?.jwk })))

try {
  await Promise.all(
    names.map((name) =>
      apps[name].configure({
        issuer: op.issuer,
        name,
        ...(clients[name] ?? { clientID: 'none', clientSecret: 'none' }),
        ...CONFIGS[name].setup,
        ...(keys[name] && { signingKey: keys[name].pem, signingAlg: SIGNING_ALG }),
        ...(redis && CONFIGS[name].redis && { redisURL: redis.url }),
      }),
    ),
  )
  const browsers = Object.fromEntries(names.map((name) => [name, new Browser()]))
  const phase = { apps, browsers, op, options, random, log }

  const first = await firstLogins({ ...phase, names: LOGIN_APPS })
  const login = await profiling(apps, profiled, 'login', () => loginRounds({ ...phase, names: LOGIN_APPS }))
  log(`${options.logins} logins per app done`)

  // The bare apps get the user express-par stored, claims trimmed to the user's.
  const stored = first['express-par'].sizes.after.record.expressPar.default.login.auth
  const bareUser = { ...stored, claims: Object.fromEntries(Object.entries(stored.claims).filter(([k]) => !PROTOCOL_CLAIMS.has(k))) }
  for (const name of names.filter((n) => CONFIGS[n].script === 'bare')) {
    const app = apps[name]
    const browser = browsers[name]
    await browser.request(`${app.baseURL}/`)
    const before = await app.storedSession('none')
    const seeded = await browser.request(`${app.baseURL}/bench-login`, { json: bareUser })
    if (seeded.status !== 204) throw new Error(`${name} /bench-login answered ${seeded.status}`)
    const after = await app.storedSession(sessionIdOf(browser.cookies(app.baseURL).get('connect.sid')))
    first[name] = {
      sizes: {
        before: { cookieBytes: 0, storedBytes: before.bytes ?? 0 },
        after: { cookieBytes: Buffer.byteLength(browser.cookieHeader(app.baseURL)), storedBytes: after.bytes },
      },
    }
  }

  // Every app must serve its routes to its logged-in browser before it is measured.
  const cookies = {}
  for (const name of new Set([...PROTECTED_APPS, ...HEALTH_APPS])) {
    cookies[name] = browsers[name].cookieHeader(apps[name].baseURL)
    for (const [path, ok] of [['/protected', (body) => body.sub === 'alice'], ['/health', (body) => body.ok === true]]) {
      if (path === '/health' && !HEALTH_APPS.includes(name)) continue
      const page = await browsers[name].request(`${apps[name].baseURL}${path}`, { headers: { accept: 'application/json' } })
      if (page.status !== 200 || !ok(JSON.parse(page.body))) throw new Error(`${name} ${path} answered ${page.status}: ${page.body.slice(0, 200)}`)
    }
  }

  const protectedRoute = await profiling(apps, profiled, 'protected', () => hammerRounds({ ...phase, names: PROTECTED_APPS, path: '/protected', cookies }))
  const healthRoute = await profiling(apps, profiled, 'health', () => hammerRounds({ ...phase, names: HEALTH_APPS, path: '/health', cookies }))

  const results = summarize({ options, profiled, first, login, protectedRoute, healthRoute, load: { before: loadBefore, after: os.loadavg() } })
  printReport(results)
  log(`written ${await saveResults(results)} (and a copy in ${resultsDir}runs/)`)
  log(`README.md "Performance" section ${(await writeReadme()) ? 'rewritten' : 'unchanged'}`)
} finally {
  await Promise.all(names.map((name) => apps[name].stop()))
  await op.close()
  await redis?.stop()
}
