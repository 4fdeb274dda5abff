// What one `npm run bench` measures: its knobs (environment and flags) and the app configurations,
// each its own process. See README "Performance".
//
// BENCH_ROUNDS (6): rounds of every phase; BENCH_LOGINS (120): logins per app in all, split over
// the rounds; BENCH_SECONDS (4) per protected-route run, BENCH_WARMUP (2) s per app before;
// BENCH_CONNECTIONS (32); BENCH_SEED (random): the seed of the shuffled order of each round;
// BENCH_STORE=redis or --store redis: sessions in a redis-server the bench starts; BENCH_CPU_PROF
// (comma-separated app names): a CPU profile of each phase of those apps.
import { randomInt } from 'node:crypto'

const setting = (name, fallback) => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`)
  return value
}

function storeOption(argv) {
  const at = argv.indexOf('--store')
  const value = (at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith('--store='))?.slice(8)) ?? process.env.BENCH_STORE ?? 'memory'
  if (value !== 'memory' && value !== 'redis') throw new Error(`--store must be "memory" or "redis", not ${value}`)
  return value
}

export function readOptions(argv = process.argv.slice(2)) {
  const rounds = setting('BENCH_ROUNDS', 6)
  const logins = setting('BENCH_LOGINS', 120)
  return {
    rounds,
    loginsPerRound: Math.max(1, Math.round(logins / rounds)),
    logins: Math.max(1, Math.round(logins / rounds)) * rounds,
    seconds: setting('BENCH_SECONDS', 4),
    warmupSeconds: setting('BENCH_WARMUP', 2),
    connections: setting('BENCH_CONNECTIONS', 32),
    seed: process.env.BENCH_SEED === undefined ? randomInt(2 ** 31) : setting('BENCH_SEED', 1),
    store: storeOption(argv),
  }
}

/**
 * Every app process: its script in apps/, its setup flags, and what it is measured on
 * (`protected`: the protected route, `health`: the untouched route, `login`: app CPU per login).
 * `key`: the client has a PS256 key pair (private_key_jwt), `jar`: signed request objects too.
 * `redis`: its sessions move to Redis under --store redis (eoc keeps its cookie).
 * Apps of the `bare` script get the user express-par stored after its first login (run.js).
 */
export const CONFIGS = {
  'express-par': { script: 'express-par', setup: {}, protected: true, health: true, login: true, redis: true },
  'express-par-jar': { script: 'express-par', setup: {}, key: true, jar: true, login: true, redis: true },
  'express-par-dpop': { script: 'express-par', setup: { dpop: true }, dpop: true, login: true, redis: true },
  'express-par-events': { script: 'express-par', setup: { events: true }, login: true, redis: true },
  'express-openid-connect': { script: 'express-openid-connect', setup: {}, protected: true, login: true },
  'express-openid-connect-pkjwt': { script: 'express-openid-connect', setup: {}, key: true, login: true },
  'express-openid-connect-jar': { script: 'express-openid-connect', setup: { jar: true }, key: true, jar: true, login: true },
  bare: { script: 'bare', setup: {}, protected: true, health: true, redis: true },
  // A second, identical bare app: its ratio to bare is what the machine's noise alone makes of
  // two equal apps in this run, the resolution every other ratio of the run has.
  'bare-control': { script: 'bare', setup: {}, protected: true, health: true, redis: true },
}

const having = (flag) => Object.keys(CONFIGS).filter((name) => CONFIGS[name][flag])
export const PROTECTED_APPS = having('protected')
export const HEALTH_APPS = having('health')
export const LOGIN_APPS = having('login')

/** Per-round ratios: [label, numerator app, denominator app]. */
export const RATIO_PAIRS = {
  protectedCapacity: [
    ['express-par / bare', 'express-par', 'bare'],
    ['express-openid-connect / bare', 'express-openid-connect', 'bare'],
    ['express-par / express-openid-connect', 'express-par', 'express-openid-connect'],
    ['bare-control / bare', 'bare-control', 'bare'],
  ],
  healthCapacity: [
    ['express-par / bare', 'express-par', 'bare'],
    ['bare-control / bare', 'bare-control', 'bare'],
  ],
  loginCpu: [
    ['express-par / express-openid-connect', 'express-par', 'express-openid-connect'],
    ['express-par-jar / express-openid-connect', 'express-par-jar', 'express-openid-connect'],
    ['express-par-dpop / express-openid-connect', 'express-par-dpop', 'express-openid-connect'],
    ['express-par-events / express-openid-connect', 'express-par-events', 'express-openid-connect'],
    ['express-par-jar / express-openid-connect-pkjwt', 'express-par-jar', 'express-openid-connect-pkjwt'],
    ['express-par-jar / express-openid-connect-jar', 'express-par-jar', 'express-openid-connect-jar'],
    ['express-par-dpop / express-par', 'express-par-dpop', 'express-par'],
    ['express-par-events / express-par', 'express-par-events', 'express-par'],
  ],
}
