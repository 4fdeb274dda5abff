// Throughput and tail latency of an authenticated, protected route, with autocannon.
import autocannon from 'autocannon'

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
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}
