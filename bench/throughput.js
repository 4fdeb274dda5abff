// Throughput and tail latency of an authenticated, protected route, with autocannon.
import autocannon from 'autocannon'

/** One autocannon run against `url` with the logged-in `cookie`. */
export async function hammer(url, cookie, { connections, seconds }) {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { cookie, accept: 'application/json' },
  })
  return {
    requestsPerSecond: result.requests.average,
    p99Ms: result.latency.p99,
    p50Ms: result.latency.p50,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  }
}
