import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { createApp } from '../../example-app/app.js'
import { jarSetup } from '../../example-app/jar-mode.js'
import { DEMO_USER, startLocalOP } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'

// The example app's JAR mode (`npm start -- --jar`), wired as start.js wires it.
test('example app in JAR mode: login with a signed request object and private_key_jwt, keys from its jwks route', async () => {
  const server = http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const setup = await jarSetup({ baseURL, clientID: 'example-app' })
  const op = await startLocalOP({ clients: [setup.client], features: setup.opFeatures, loopbackCalls: setup.loopbackCalls })
  const pushed: Array<Record<string, string>> = []
  op.provider.on('pushed_authorization_request.success', (ctx: { oidc: { body: Record<string, string> } }) => pushed.push({ ...ctx.oidc.body }))
  server.on('request', createApp({ auth: { ...setup.auth, issuerBaseURL: op.issuer, allowInsecureRequests: true } }))
  try {
    const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()
    expect(discovery.require_signed_request_object).toBe(true)

    const browser = new TestBrowser()
    const start = await browser.request(`${baseURL}/profile`)
    expect(start.status).toBe(302)
    const callbackUrl = await authorizeAtOP(browser, start.headers.get('location')!, `${baseURL}/callback`, { login: DEMO_USER })
    expect((await browser.request(callbackUrl)).headers.get('location')).toBe('/profile')
    expect((await browser.request(`${baseURL}/profile`)).body).toContain('<th>sub</th><td>alice</td>')

    expect(pushed).toHaveLength(1)
    expect(Object.keys(pushed[0]!).sort()).toEqual(['client_assertion', 'client_assertion_type', 'client_id', 'request'])
    expect(decodeProtectedHeader(pushed[0]!.request!)).toMatchObject({ alg: 'PS256', typ: 'oauth-authz-req+jwt' })
    expect(decodeJwt(pushed[0]!.request!)).toMatchObject({ iss: 'example-app', aud: op.issuer, scope: 'openid profile email' })
  } finally {
    server.closeAllConnections()
    server.close()
    await op.close()
  }
})
