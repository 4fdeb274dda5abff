/**
 * What opError puts in a message when the error it wraps quotes something the OP sent. No path
 * through openid-client 6 / oauth4webapi 3 quotes OP input into a message today (the fuzz tests
 * look for one); these pin the sanitising itself, so a dependency update cannot bring markup in.
 */

import { ResponseBodyError } from 'openid-client'
import { opError } from '../../lib/op/op-errors.js'

test('angle brackets in a wrapped message never reach the message', () => {
  const err = opError(new Error('invalid response encountered', { cause: new Error('unexpected value <script>alert(1)</script>') }), 'token', 1000)
  expect(err.code).toBe('ERR_TOKEN_RESPONSE_INVALID')
  expect(err.message).toContain('unexpected value')
  expect(err.message).not.toMatch(/[<>]/)
})

test("a JSON parser's message, which quotes the body, is left out", () => {
  const parse = new SyntaxError('Unexpected token \'s\', "secret-body" is not valid JSON')
  const err = opError(new Error('failed to parse "response" body as JSON', { cause: parse }), 'par', 1000)
  expect(err.code).toBe('ERR_PAR_FAILED')
  expect(err.message).toContain('failed to parse')
  expect(err.message).not.toContain('secret-body')
})

describe('network errors name no address in the message; it stays in cause', () => {
  const refused = () =>
    new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 10.0.3.7:8443'), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '10.0.3.7', port: 8443 }) })
  const tls = () =>
    new TypeError('fetch failed', {
      cause: Object.assign(new Error("Hostname/IP does not match certificate's altnames: Host: op.internal.corp. is not in the cert's altnames: DNS:op.example.com"), {
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      }),
    })
  // openid-client wraps what fetch throws once more.
  const wrapped = (err: Error) => new Error('something went wrong', { cause: err })

  test.each([
    ['discovery', 'ERR_DISCOVERY_FAILED'],
    ['par', 'ERR_OP_UNREACHABLE'],
    ['token', 'ERR_OP_UNREACHABLE'],
    ['jwks', 'ERR_OP_UNREACHABLE'],
  ] as const)('connection refused during %s -> %s', (step, code) => {
    const cause = wrapped(refused())
    const err = opError(cause, step, 1000)
    expect(err.code).toBe(code)
    expect(err.message).toContain('connection refused')
    expect(err.message).not.toMatch(/10\.0\.3\.7|8443|ECONNREFUSED|fetch failed/)
    expect(err.cause).toBe(cause)
  })

  test('a TLS failure names its code, not the hosts', () => {
    const err = opError(wrapped(tls()), 'discovery', 1000)
    expect(err.message).toContain('TLS handshake refused (ERR_TLS_CERT_ALTNAME_INVALID)')
    expect(err.message).not.toMatch(/internal\.corp|example\.com/)
  })
})

test('a timeout anywhere in the cause chain is ERR_OP_TIMEOUT (a body that outlasts httpTimeout sits two levels down)', () => {
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
  const err = opError(new Error('parsing error occured', { cause: new Error('failed to parse "response" body as JSON', { cause: timeout }) }), 'token', 1000)
  expect(err.code).toBe('ERR_OP_TIMEOUT')
})

describe('what to check, by the error the PAR or token endpoint answered with', () => {
  const answered = (error: string) =>
    new ResponseBodyError('server responded with an error in the response body', {
      cause: { error, error_description: 'x' },
      response: new Response(null, { status: 400 }),
    })

  test.each(['invalid_dpop_proof', 'use_dpop_nonce'])('%s points at DPoP, not at the client registration', (error) => {
    const err = opError(answered(error), 'par', 1000)
    expect(err.code).toBe('ERR_PAR_FAILED')
    expect(err.message).toContain('The OP refused the DPoP proof (RFC 9449)')
    expect(err.message).not.toContain('client_id, secret, redirect_uri')
  })

  test('another error points at the client registration', () => {
    expect(opError(answered('invalid_client'), 'token', 1000).message).toContain('Check the client registration at the OP (client_id, secret, redirect_uri).')
  })
})
