// The benchmark's report on stdout: per-app figures side by side, every per-round ratio with its
// spread, and the targets of issue 19, MET or MISSED.
const pad = (value, width) => String(value ?? '-').padStart(width)
const row = (label, values, width = 16) => `${label.padEnd(36)}${values.map((v) => pad(v, width)).join('')}`

/** "0.95 (IQR 0.93–0.97, min 0.9, max 0.99)" */
export const spreadText = (s) => (s ? `${s.median} (IQR ${s.p25}–${s.p75}, min ${s.min}, max ${s.max})` : '-')

const bytes = (s) => (s ? `${s.storedBytes}+${s.cookieBytes}c` : undefined)
const fetches = (f) => (f ? `${f.discovery}d+${f.jwks}j` : undefined)

function routeLines(title, figures) {
  const names = Object.keys(figures)
  return [
    row(title, names, 24),
    row('  req/s (median)', names.map((n) => figures[n].requestsPerSecond), 24),
    row('  p99 ms (median)', names.map((n) => figures[n].p99Ms), 24),
    row('  µs app CPU/request (median)', names.map((n) => figures[n].cpuMicrosPerRequest), 24),
    row('  of which other threads', names.map((n) => figures[n].otherThreadsMicrosPerRequest), 24),
  ]
}

function loginLines(results) {
  const { logins, opFetches, sessionBytes: sb } = results
  const lines = [`${'login configuration'.padEnd(30)}${['µs CPU/login', 'IQR', '/login ms', '/callback ms', 'fetch 1st', 'fetch later', 'pending', 'logged in'].map((h) => pad(h, 13)).join('')}`]
  for (const [name, l] of Object.entries(logins)) {
    const c = l.cpuMicrosPerLogin
    const cells = [c.median, `${c.p25}–${c.p75}`, l.loginMedianMs, l.callbackMedianMs, fetches(opFetches[name].firstLogin), fetches(opFetches[name].laterLogins), bytes(sb[name]?.pending), bytes(sb[name]?.after)]
    lines.push(`${name.padEnd(30)}${cells.map((v) => pad(v, 13)).join('')}`)
  }
  lines.push('(session bytes: stored + cookie; fetches: discovery + JWKS at the OP)')
  return lines
}

export function printReport(results) {
  const { options: o } = results
  const lines = [`seed ${o.seed}, store ${o.store}, ${o.rounds} rounds (shuffled order each), ${o.loginsPerRound} logins per app per round, ${o.seconds} s x ${o.connections} connections per route run`]
  if (o.profiled.length) lines.push(`CPU-profiled (figures of these apps are inflated): ${o.profiled.join(', ')}`)
  lines.push('', ...routeLines('protected route', results.protectedRoute), '', ...routeLines('untouched /health', results.healthRoute), '', ...loginLines(results), '')
  lines.push(row('session bytes, bare (stored+cookie)', [bytes(results.sessionBytes.bare?.after)]))
  lines.push('', 'per-round ratios: median (IQR p25–p75, min, max)')
  for (const [what, pairs] of Object.entries(results.ratios)) for (const [pair, s] of Object.entries(pairs)) lines.push(`  ${what}: ${pair} = ${spreadText(s)}`)
  lines.push('')
  for (const t of results.targets) lines.push(`${t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.value}${t.iqr ? ` (IQR ${t.iqr[0]}–${t.iqr[1]})` : ''}`)
  const { loadavg, cpus, cpuModel } = results.machine
  lines.push(`load average ${loadavg.before.join(' ')} -> ${loadavg.after.join(' ')} on ${cpus} x ${cpuModel}`)
  process.stdout.write(`${lines.join('\n')}\n`)
}
