// The benchmark's results as one JSON object (bench/results/latest.json): per-app figures (medians
// over rounds), per-round ratios with their spread, and the targets of issue 19, checked.
import os from 'node:os'
import { CONFIGS, RATIO_PAIRS } from './config.js'
import { divide, median, round, spread } from './stats.js'

const size = ({ storedBytes = 0, cookieBytes = 0 } = {}) => ({ storedBytes, cookieBytes })

/** What express-par's JAR login is compared with, closest first: the first of these a run has is its anchor. */
export const JAR_ANCHORS = ['express-par-jar / express-openid-connect-jar', 'express-par-jar / express-openid-connect-pkjwt', 'express-par-jar / express-openid-connect']

function routeFigures(runs) {
  return Object.fromEntries(
    Object.entries(runs).map(([name, rounds]) => [
      name,
      {
        requestsPerSecond: round(median(rounds.map((r) => r.requestsPerSecond)), 0),
        p99Ms: round(median(rounds.map((r) => r.p99Ms)), 1),
        cpuMicrosPerRequest: round(median(rounds.map((r) => r.cpuMicrosPerRequest)), 1),
        otherThreadsMicrosPerRequest: round(median(rounds.map((r) => r.otherThreadsMicrosPerRequest ?? null).filter((v) => v !== null)), 1),
        rounds,
      },
    ]),
  )
}

/** For each [label, a, b] whose apps both ran: the spread over rounds of `perRound(a[r], b[r])`. */
function perRound(pairs, series, fn) {
  const out = {}
  for (const [label, a, b] of pairs) {
    if (!series[a] || !series[b]) continue
    out[label] = spread(series[a].map((value, r) => fn(value, series[b][r])))
  }
  return out
}

function targetOf(target, figure, met) {
  if (!figure) return { target, value: null, met: false }
  return { target, value: figure.median, iqr: [figure.p25, figure.p75], met: met(figure.median) }
}

export function summarize({ options, profiled, first, login, protectedRoute, healthRoute, load }) {
  const cpu = (runs) => Object.fromEntries(Object.entries(runs).map(([name, rounds]) => [name, rounds.map((r) => r.cpuMicrosPerRequest)]))
  const rps = (runs) => Object.fromEntries(Object.entries(runs).map(([name, rounds]) => [name, rounds.map((r) => r.requestsPerSecond)]))
  const capacity = (a, b) => divide(b, a) // 1/cpuA over 1/cpuB
  const ratios = {
    protectedCapacity: perRound(RATIO_PAIRS.protectedCapacity, cpu(protectedRoute.runs), capacity),
    protectedThroughput: perRound(RATIO_PAIRS.protectedCapacity, rps(protectedRoute.runs), divide),
    healthCapacity: perRound(RATIO_PAIRS.healthCapacity, cpu(healthRoute.runs), capacity),
    healthThroughput: perRound(RATIO_PAIRS.healthCapacity, rps(healthRoute.runs), divide),
    loginCpu: perRound(RATIO_PAIRS.loginCpu, login.cpuPerLogin, divide),
  }
  const logins = Object.fromEntries(
    Object.entries(login.timings).map(([name, t]) => [
      name,
      {
        count: t.loginMs.length,
        loginMedianMs: round(median(t.loginMs), 2),
        callbackMedianMs: round(median(t.callbackMs), 2),
        cpuMicrosPerLogin: spread(login.cpuPerLogin[name], 0),
        firstLoginMs: round(first[name].loginMs, 1),
        firstCallbackMs: round(first[name].callbackMs, 1),
      },
    ]),
  )
  const opFetches = Object.fromEntries(Object.keys(login.timings).map((name) => [name, { firstLogin: first[name].fetches, laterLogins: login.laterFetches[name], laterLoginCount: login.timings[name].loginMs.length }]))
  const sessionBytes = Object.fromEntries(
    Object.entries(first).map(([name, { sizes: s }]) => [name, { before: size(s.before), pending: s.pending ? size(s.pending) : null, after: size(s.after) }]),
  )
  const par = sessionBytes['express-par']
  const laterPar = Object.keys(opFetches)
    .filter((name) => CONFIGS[name].script === 'express-par')
    .reduce((sum, name) => sum + opFetches[name].laterLogins.discovery + opFetches[name].laterLogins.jwks, 0)
  const jarAnchor = JAR_ANCHORS.find((label) => ratios.loginCpu[label])
  const atMost = (limit) => (v) => v <= limit
  const atLeast = (limit) => (v) => v >= limit
  const targets = [
    targetOf('protected route capacity >= 0.97x bare (1 / app CPU per request)', ratios.protectedCapacity['express-par / bare'], atLeast(0.97)),
    targetOf('untouched /health capacity >= 0.97x bare', ratios.healthCapacity['express-par / bare'], atLeast(0.97)),
    targetOf('login CPU <= 0.8x express-openid-connect, client_secret_basic', ratios.loginCpu['express-par / express-openid-connect'], atMost(0.8)),
    targetOf(`login CPU <= 0.8x, JAR + private_key_jwt (${jarAnchor ?? 'no anchor'})`, ratios.loginCpu[jarAnchor], atMost(0.8)),
    targetOf('login CPU <= 0.8x express-openid-connect (secret), DPoP', ratios.loginCpu['express-par-dpop / express-openid-connect'], atMost(0.8)),
    { target: 'no discovery/JWKS fetch after the first login (every express-par configuration)', value: laterPar, met: laterPar === 0 },
    { target: 'stored session of a logged-in user < 4096 bytes', value: par.after.storedBytes, met: par.after.storedBytes > 0 && par.after.storedBytes < 4096 },
    { target: 'pending login < 512 bytes', value: par.pending.storedBytes, met: par.pending.storedBytes > 0 && par.pending.storedBytes < 512 },
  ]
  return {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavg: { before: load.before.map((l) => round(l)), after: load.after.map((l) => round(l)) } },
    options: { ...options, profiled: [...profiled] },
    orders: { login: login.orders, protectedRoute: protectedRoute.orders, healthRoute: healthRoute.orders },
    protectedRoute: routeFigures(protectedRoute.runs),
    healthRoute: routeFigures(healthRoute.runs),
    logins,
    opFetches,
    sessionBytes,
    ratios,
    targets,
  }
}
