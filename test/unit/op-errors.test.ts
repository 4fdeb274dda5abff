/**
 * What opError puts in a message when the error it wraps quotes something the OP sent. No path
 * through openid-client 6 / oauth4webapi 3 quotes OP input into a message today (the fuzz tests
 * look for one); these pin the sanitising itself, so a dependency update cannot bring markup in.
 */

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

test('a timeout anywhere in the cause chain is ERR_OP_TIMEOUT (a body that outlasts httpTimeout sits two levels down)', () => {
  const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError')
  const err = opError(new Error('parsing error occured', { cause: new Error('failed to parse "response" body as JSON', { cause: timeout }) }), 'token', 1000)
  expect(err.code).toBe('ERR_OP_TIMEOUT')
})
