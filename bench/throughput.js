// Throughput and tail latency of an authenticated route, with autocannon, in rounds.
import autocannon from 'autocannon'
import { shuffled } from './prng.js'

/**
 * One autocannon run against `app`'s `path` with the logged-in `cookie`. Besides what autocannon
 * sees (bounded by the load generator too, on a small machine), it reports the CPU time the app
 * process spent per request: the app's own cost, which other load on the machine barely moves.
 */
export async function hammer(app, path, cookie, { connections, seconds }) {
  const url = `${app.baseURL}${path}`
  const cpuBefore = await app.cpu()
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { cookie, accept: 'application/json' },
  })
  const cpuAfter = await app.cpu()
  const served = cpuAfter.requests - cpuBefore.requests
  return {
    cpuMicrosPerRequest: served > 0 ? (cpuAfter.cpuMicros - cpuBefore.cpuMicros) / served : null,
    // What of it ran off the main thread (GC and compiler threads, libuv): null where /proc has no per-thread figures.
    otherThreadsMicrosPerRequest: served > 0 && cpuAfter.mainThreadMicros != null ? (cpuAfter.cpuMicros - cpuBefore.cpuMicros - (cpuAfter.mainThreadMicros - cpuBefore.mainThreadMicros)) / served : null,
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}

/**
 * Warms each app up on `path`, then `rounds` rounds, the apps in a shuffled order in each.
 * @returns {Promise<{ runs: Record<string, object[]>, orders: string[][] }>}
 */
export async function hammerRounds({ apps, names, path, cookies, options, random, log }) {
  const load = { connections: options.connections }
  for (const name of names) await hammer(apps[name], path, cookies[name], { ...load, seconds: options.warmupSeconds })
  const runs = Object.fromEntries(names.map((name) => [name, []]))
  const orders = []
  for (let round = 0; round < options.rounds; round++) {
    const order = shuffled(names, random)
    orders.push(order)
    for (const name of order) {
      const run = await hammer(apps[name], path, cookies[name], { ...load, seconds: options.seconds })
      if (run.non2xx || run.errors) throw new Error(`${name} ${path}: ${run.non2xx} non-2xx answers and ${run.errors} errors under load`)
      runs[name].push(run)
      log(`${path} round ${round + 1} ${name}: ${Math.round(run.requestsPerSecond)} req/s, p99 ${run.p99Ms} ms, ${Math.round(run.cpuMicrosPerRequest)} µs CPU/request`)
    }
  }
  return { runs, orders }
}
