// The benchmark's results: one JSON object (bench/results/latest.json), a side-by-side table and
// the targets of issue 5, checked.
import os from 'node:os'
import { mean, median, ratio, round } from './stats.js'

const APPS = ['express-par', 'express-openid-connect', 'bare']
const size = ({ storedBytes = 0, cookieBytes = 0 } = {}) => ({ storedBytes, cookieBytes })

export function summarize({ options, first, timings, laterFetches, throughput, load }) {
  const protectedRoute = Object.fromEntries(
    APPS.map((name) => [
      name,
      {
        requestsPerSecond: round(mean(throughput[name].map((r) => r.requestsPerSecond)), 0),
        p99Ms: round(mean(throughput[name].map((r) => r.p99Ms)), 1),
        cpuMicrosPerRequest: round(mean(throughput[name].map((r) => r.cpuMicrosPerRequest)), 1),
        rounds: throughput[name],
      },
    ]),
  )
  const logins = Object.fromEntries(
    Object.entries(timings).map(([name, t]) => [
      name,
      { count: t.loginMs.length, loginMedianMs: round(median(t.loginMs), 2), callbackMedianMs: round(median(t.callbackMs), 2), cpuMicrosPerLogin: round(t.cpuMicrosPerLogin, 0), firstLoginMs: round(first[name].loginMs, 1), firstCallbackMs: round(first[name].callbackMs, 1) },
    ]),
  )
  const opFetches = Object.fromEntries(Object.keys(timings).map((name) => [name, { firstLogin: first[name].fetches, laterLogins: laterFetches[name], laterLoginCount: timings[name].loginMs.length }]))
  const sessionBytes = Object.fromEntries(
    APPS.map((name) => {
      const s = first[name].sizes
      return [name, { before: size(s.before), pending: s.pending ? size(s.pending) : null, after: size(s.after) }]
    }),
  )
  const rps = (name) => protectedRoute[name].requestsPerSecond
  // Requests one core could serve: the inverse of the app's CPU time per request.
  const capacity = (name) => 1e6 / protectedRoute[name].cpuMicrosPerRequest
  const ratios = {
    protectedRoute: {
      'express-par / bare': ratio(rps('express-par'), rps('bare')),
      'express-openid-connect / bare': ratio(rps('express-openid-connect'), rps('bare')),
      'express-par / express-openid-connect': ratio(rps('express-par'), rps('express-openid-connect')),
    },
    protectedRouteCapacity: {
      'express-par / bare': ratio(capacity('express-par'), capacity('bare')),
      'express-openid-connect / bare': ratio(capacity('express-openid-connect'), capacity('bare')),
      'express-par / express-openid-connect': ratio(capacity('express-par'), capacity('express-openid-connect')),
    },
    loginMedian: { 'express-par / express-openid-connect': ratio(logins['express-par'].loginMedianMs, logins['express-openid-connect'].loginMedianMs) },
    callbackMedian: { 'express-par / express-openid-connect': ratio(logins['express-par'].callbackMedianMs, logins['express-openid-connect'].callbackMedianMs) },
  }
  // What DPoP adds to a login: the DPoP configuration of express-par beside its secret-only one.
  const dpopLogins = logins['express-par-dpop']
  if (dpopLogins) {
    const s = first['express-par-dpop'].sizes
    sessionBytes['express-par-dpop'] = { before: size(s.before), pending: size(s.pending), after: size(s.after) }
    ratios.dpop = {
      'loginMedian dpop / secret-only': ratio(dpopLogins.loginMedianMs, logins['express-par'].loginMedianMs),
      'callbackMedian dpop / secret-only': ratio(dpopLogins.callbackMedianMs, logins['express-par'].callbackMedianMs),
      'cpuPerLogin dpop / secret-only': ratio(dpopLogins.cpuMicrosPerLogin, logins['express-par'].cpuMicrosPerLogin),
    }
  }
  const par = sessionBytes['express-par']
  const later = laterFetches['express-par']
  const targets = [
    { target: 'protected route >= 0.9x bare throughput (req/s)', value: ratios.protectedRoute['express-par / bare'], met: ratios.protectedRoute['express-par / bare'] >= 0.9 },
    { target: 'protected route >= 0.9x bare capacity (1 / CPU per request)', value: ratios.protectedRouteCapacity['express-par / bare'], met: ratios.protectedRouteCapacity['express-par / bare'] >= 0.9 },
    { target: '/login median <= express-openid-connect', value: ratios.loginMedian['express-par / express-openid-connect'], met: ratios.loginMedian['express-par / express-openid-connect'] <= 1 },
    { target: '/callback median <= express-openid-connect', value: ratios.callbackMedian['express-par / express-openid-connect'], met: ratios.callbackMedian['express-par / express-openid-connect'] <= 1 },
    { target: 'no discovery/JWKS fetch after the first login', value: later.discovery + later.jwks, met: later.discovery + later.jwks === 0 },
    { target: 'stored session of a logged-in user < 4096 bytes', value: par.after.storedBytes, met: par.after.storedBytes > 0 && par.after.storedBytes < 4096 },
    { target: 'pending login < 512 bytes', value: par.pending.storedBytes, met: par.pending.storedBytes > 0 && par.pending.storedBytes < 512 },
  ]
  return {
    date: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, loadavg: { before: load.before.map((l) => round(l)), after: load.after.map((l) => round(l)) } },
    options,
    protectedRoute,
    logins,
    opFetches,
    sessionBytes,
    ratios,
    targets,
  }
}

const pad = (value, width) => String(value ?? '-').padStart(width)
const row = (label, values) => `${label.padEnd(34)}${values.map((v) => pad(v, 24)).join('')}`

export function printReport(results) {
  const lines = []
  const { protectedRoute: pr, logins, opFetches, sessionBytes: sb } = results
  lines.push(row('', APPS))
  lines.push(row('protected route req/s', APPS.map((n) => pr[n].requestsPerSecond)))
  lines.push(row('protected route p99 ms', APPS.map((n) => pr[n].p99Ms)))
  lines.push(row('protected route µs CPU/request', APPS.map((n) => pr[n].cpuMicrosPerRequest)))
  lines.push(row('/login median ms', APPS.map((n) => logins[n]?.loginMedianMs)))
  lines.push(row('/callback median ms', APPS.map((n) => logins[n]?.callbackMedianMs)))
  lines.push(row('app µs CPU per login (both routes)', APPS.map((n) => logins[n]?.cpuMicrosPerLogin)))
  const fetches = (f) => (f ? `${f.discovery} disc + ${f.jwks} jwks` : undefined)
  lines.push(row('OP fetches, first login', APPS.map((n) => fetches(opFetches[n]?.firstLogin))))
  lines.push(row(`OP fetches, next ${results.options.logins} logins`, APPS.map((n) => fetches(opFetches[n]?.laterLogins))))
  const bytes = (s) => (s ? `${s.storedBytes} stored + ${s.cookieBytes} cookie` : undefined)
  for (const phase of ['before', 'pending', 'after']) lines.push(row(`session bytes ${phase} login`, APPS.map((n) => bytes(sb[n][phase]))))
  const dpop = logins['express-par-dpop']
  if (dpop) {
    lines.push('')
    lines.push(row('', ['express-par', 'express-par-dpop']))
    lines.push(row('/login median ms', [logins['express-par'].loginMedianMs, dpop.loginMedianMs]))
    lines.push(row('/callback median ms', [logins['express-par'].callbackMedianMs, dpop.callbackMedianMs]))
    lines.push(row('app µs CPU per login (both routes)', [logins['express-par'].cpuMicrosPerLogin, dpop.cpuMicrosPerLogin]))
    for (const phase of ['pending', 'after']) lines.push(row(`session bytes ${phase} login`, ['express-par', 'express-par-dpop'].map((n) => bytes(sb[n][phase]))))
  }
  lines.push('')
  for (const [what, pairs] of Object.entries(results.ratios)) for (const [pair, value] of Object.entries(pairs)) lines.push(`${what}: ${pair} = ${value}`)
  lines.push('')
  for (const t of results.targets) lines.push(`${t.met ? 'MET   ' : 'MISSED'} ${t.target} (${t.value})`)
  lines.push(`load average ${results.machine.loadavg.before.join(' ')} -> ${results.machine.loadavg.after.join(' ')} on ${results.machine.cpus} cores`)
  process.stdout.write(`${lines.join('\n')}\n`)
}
