import { decodeJwt } from 'jose'
import { startExample } from '../../example-app/stack.js'
import { DEMO_USER } from '../../example-app/local-op.js'
import { TestBrowser, authorizeAtOP } from '../support/browser.js'

// The example app's FAPI mode (`npm start -- --fapi`), started as start.js starts it: the local OP
// in its FAPI 2.0 configuration (DPoP nonces required), the app with private_key_jwt + DPoP.
test('example app in FAPI mode: a DPoP-bound login with private_key_jwt against the FAPI 2.0 OP', async () => {
  const example = await startExample({ fapi: true, appHost: 'localhost', opHost: '127.0.0.1' })
  const pushed: Array<{ body: Record<string, string>; dpop: string }> = []
  example.op.provider.on('pushed_authorization_request.success', (ctx: { oidc: { body: Record<string, string> }; get(name: string): string }) =>
    pushed.push({ body: { ...ctx.oidc.body }, dpop: ctx.get('dpop') }),
  )
  try {
    const discovery = await (await fetch(`${example.issuer}/.well-known/openid-configuration`)).json()
    expect(discovery.dpop_signing_alg_values_supported).toContain('ES256')

    const browser = new TestBrowser()
    const start = await browser.request(`${example.baseURL}/login`)
    expect({ status: start.status, body: start.body.slice(0, 600) }).toEqual({ status: 302, body: '' })
    const callbackUrl = await authorizeAtOP(browser, start.headers.get('location')!, `${example.baseURL}/callback`, { login: DEMO_USER })
    expect((await browser.request(callbackUrl)).status).toBe(302)
    expect((await browser.request(`${example.baseURL}/`)).body).toContain('Access token: DPoP-bound (RFC 9449)')

    expect(pushed).toHaveLength(1)
    expect(pushed[0]!.body.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    expect(decodeJwt(pushed[0]!.dpop)).toMatchObject({ htm: 'POST', nonce: expect.any(String) })
  } finally {
    await example.close()
  }
})
