/** lib/op/http.ts on its own: what every request to the OP goes through. */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { OpInsecureRequest, OpResponseTooLarge, createOpFetch } from '../../lib/op/http.js'

let server: http.Server
let base: string
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/empty') return void res.writeHead(204).end()
    if (req.url === '/big') return void res.end('x'.repeat(2048))
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

const get = { method: 'GET', body: undefined, headers: {}, redirect: 'manual' as const }

test('an http: URL is refused without allowInsecureRequests (the JWKS fetch has no other check)', async () => {
  await expect(createOpFetch({ timeoutMs: 1000 })(`${base}/`, get)).rejects.toBeInstanceOf(OpInsecureRequest)
})

test('answers come back read, with their status, headers and URL', async () => {
  const opFetch = createOpFetch({ timeoutMs: 1000, allowInsecureRequests: true })
  const ok = await opFetch(`${base}/json`, get)
  expect({ status: ok.status, type: ok.headers.get('content-type'), url: ok.url, body: await ok.json() }).toEqual({
    status: 200,
    type: 'application/json',
    url: `${base}/json`,
    body: { ok: true },
  })
  expect((await opFetch(`${base}/empty`, get)).status).toBe(204)
})

test('a body over maxBytes is refused', async () => {
  const opFetch = createOpFetch({ timeoutMs: 1000, allowInsecureRequests: true, maxBytes: 1024 })
  await expect(opFetch(`${base}/big`, get)).rejects.toMatchObject({ constructor: OpResponseTooLarge, bytes: 2048, declared: true })
})
