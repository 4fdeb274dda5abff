/**
 * The OP's metadata reaches messages only as names: markup in a supported-methods or algorithms
 * list, never does (README "Errors never render HTML"). Each case puts the
 * markup where a discovery-time check quotes the OP's lists. (Found by the security review; an
 * endpoint URL is quoted through printableURL, whose serialisation escapes markup.)
 */

import { useHostileStack } from '../support/hostile-stack.js'

const MARKUP = '<img src=x onerror=alert(document.domain)>'

describe.each([
  ['token_endpoint_auth_methods_supported', {}, { token_endpoint_auth_methods_supported: ['private_key_jwt', MARKUP] }],
  ['dpop_signing_alg_values_supported', { dpop: true }, { dpop_signing_alg_values_supported: ['RS512', MARKUP] }],
])('%s', (_where, auth, metadata) => {
  const stack = useHostileStack({ auth })

  test('is named without its markup', async () => {
    stack.op.bend.discovery = (valid) => ({ ...valid, ...metadata })
    const page = await stack.startLogin(stack.browser())
    expect(page.status).toBeGreaterThanOrEqual(500)
    const { message } = JSON.parse(page.body) as { message: string }
    expect(message).not.toMatch(/[<>]/)
    expect(message).not.toContain('onerror=alert')
  })
})
