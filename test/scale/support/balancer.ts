/**
 * The load balancer in front of the app instances: one public origin (the apps' `baseURL`), and
 * each request forwarded to the instance the test names in the `x-instance` header, so a test
 * decides which instance serves each step of a login.
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'

export const INSTANCE_HEADER = 'x-instance'

export interface Balancer {
  url: string
  close(): Promise<void>
}

/** Forwards to `instances[x-instance]`; a request without a known instance gets a 421. */
export async function startBalancer(instances: Record<string, string>): Promise<Balancer> {
  const server = http.createServer((req, res) => {
    const name = req.headers[INSTANCE_HEADER]
    const target = typeof name === 'string' ? instances[name] : undefined
    if (!target) {
      res.writeHead(421).end(`no instance named ${JSON.stringify(name)}`)
      return
    }
    const upstream = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502)
      res.end(`instance ${name} unreachable: ${err.message}`)
    })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
