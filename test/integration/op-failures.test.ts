import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { sessionCount } from '../support/session-store.js'
import { CLIENT_ID, startStack } from '../support/stack.js'

/** Stops the OP's server (dropping its connections) and returns a function that restarts it on the same port. */
async function takeDown(server: import('node:http').Server): Promise<() => Promise<void>> {
  const { port, address } = server.address() as AddressInfo
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return () => new Promise<void>((resolve) => server.listen(port, address, resolve))
}

describe.each(EXPRESS_VERSIONS)('OP failures (%s)', (_name, express) => {
  test('OP down at discovery: 502, nothing stored; back up: the next login works without a restart', async () => {
    const stack = await startStack({ express })
    try {
      const bringBack = await takeDown(stack.op.server)
      const browser = stack.browser()
      const down = await browser.request(`${stack.baseURL}/login`)
      expect(down.status).toBe(502)
      expect(JSON.parse(down.body).code).toBe('ERR_DISCOVERY_FAILED')
      expect(stack.errors[0]!.cause).toBeDefined()
      expect(sessionCount(stack.store)).toBe(0)

      await bringBack()
      expect((await stack.login(browser)).status).toBe(302)
      expect(JSON.parse((await browser.request(`${stack.baseURL}/`)).body).authenticated).toBe(true)
    } finally {
      await stack.close()
    }
  })

  test('discovery is fetched once and reused across logins', async () => {
    const stack = await startStack({ express })
    try {
      for (let i = 0; i < 3; i++) expect((await stack.login(stack.browser())).status).toBe(302)
      expect(stack.opRequests.filter((p) => p === '/.well-known/openid-configuration')).toHaveLength(1)
      expect(stack.opRequests.filter((p) => p === '/jwks')).toHaveLength(1)
    } finally {
      await stack.close()
    }
  })

  test('a PAR endpoint that refuses the client: 502 with the OP error, no pending login stored', async () => {
    const stack = await startStack({ express, auth: { clientSecret: 'not-the-registered-secret' } })
    try {
      const browser = stack.browser()
      const answer = await browser.request(`${stack.baseURL}/login`)
      expect(answer.status).toBe(502)
      expect(JSON.parse(answer.body).code).toBe('ERR_PAR_FAILED')
      expect(stack.errors[0]).toMatchObject({ error: 'invalid_client', status: 502 })
      expect(sessionCount(stack.store)).toBe(0)
    } finally {
      await stack.close()
    }
  })

  test("a redirect_uri the OP does not know: the message says which was sent and the OP's reason", async () => {
    const stack = await startStack({ express, client: { redirect_uris: ['https://elsewhere.example/callback'] } })
    try {
      const answer = await stack.browser().request(`${stack.baseURL}/login`)
      expect(answer.status).toBe(502)
      const { code, message } = JSON.parse(answer.body)
      expect(code).toBe('ERR_PAR_FAILED')
      expect(message).toContain(`redirect_uri=${stack.baseURL}/callback`)
      expect(message).toContain(`saying "${stack.errors[0]!.errorDescription}"`)
      expect(stack.errors[0]!.errorDescription).toMatch(/redirect_uri/)
    } finally {
      await stack.close()
    }
  })

  test('an OP without a PAR endpoint is a clear error that says so', async () => {
    const stack = await startStack({
      express,
      opFeatures: { pushedAuthorizationRequests: { enabled: false } },
      client: { require_pushed_authorization_requests: false },
    })
    try {
      const answer = await stack.browser().request(`${stack.baseURL}/login`)
      expect(answer.status).toBe(502)
      expect(JSON.parse(answer.body)).toMatchObject({ code: 'ERR_PAR_UNSUPPORTED', message: expect.stringMatching(/pushed_authorization_request_endpoint/) })
    } finally {
      await stack.close()
    }
  })

  test('an OP that never answers discovery: 504 after httpTimeout', async () => {
    const silent = net.createServer(() => {}) // accepts connections, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const sockets = new Set<net.Socket>()
    silent.on('connection', (socket) => sockets.add(socket))
    const stack = await startStack({
      express,
      auth: { issuerBaseURL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, httpTimeout: 300 },
    })
    try {
      const answer = await stack.browser().request(`${stack.baseURL}/login`)
      expect(answer.status).toBe(504)
      expect(JSON.parse(answer.body).code).toBe('ERR_OP_TIMEOUT')
    } finally {
      await stack.close()
      for (const socket of sockets) socket.destroy()
      silent.close()
    }
  })
})

test('a missing express-session is reported on the first request, naming the fix', async () => {
  const { default: express } = await import('express')
  const { auth } = await import('express-par')
  const app = express()
  app.use(auth({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: CLIENT_ID, clientSecret: 's' }))
  let seen: { code?: string; status?: number; message?: string } | undefined
  app.use((err: typeof seen, _req: unknown, res: { status: (n: number) => { end: () => void } }, _next: unknown) => {
    seen = err
    res.status(500).end()
  })
  const { default: request } = await import('supertest')
  await request(app).get('/anything').expect(500)
  expect(seen).toMatchObject({ code: 'ERR_SESSION_MISSING', status: 500, message: expect.stringMatching(/app\.use\(session/) })
})
