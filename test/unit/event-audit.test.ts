/** The secret scan of test/support/event-audit.ts flags what must never be published, and passes a real event. */

import { eventProblems } from '../support/event-audit.js'

const clean = {
  outcome: 'success',
  issuer: 'https://op.example.com',
  clientID: 'app',
  name: 'default',
  sub: 'alice',
  durationMs: 4.2,
  session: 'abcdefghijklmnopqrstuv',
  acr: 'urn:mace:incommon:iap:silver',
  amr: ['pwd', 'otp'],
}

test('a real event passes', () => {
  expect(eventProblems('express-par:callback', clean)).toEqual([])
})

test.each([
  ['an ID token', { ...clean, sub: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln' }, /holds a JWT/],
  ['an authorization code', { ...clean, code: 'Yk1tN2ZxV3Bob2JnQ0xhZ0pXbW5DdWpyeG5mR2p3a1Q' }, /long random string/],
  ['a signed session cookie', { ...clean, sub: 's%3AXMJTHD3vu3tUNNojnKvEmS13cXwBFtuZ.iPxPRDPy17B1' }, /signed session cookie/],
  ['a client secret', { ...clean, error: 'x', sub: 'test-client-secret-0123456789' }, /client secret/],
  ['a field of its own', { ...clean, accessToken: 'x' }, /unexpected field accessToken/],
  ['a session id instead of its digest', { ...clean, session: 'XMJTHD3vu3tUNNojnKvEmS13cXwBFtuZ' }, /session is not a 22-character digest/],
  ['an attacker-chosen error', { ...clean, error: '<script>' }, /error is not an OAuth error code/],
])('%s is flagged', (_case, event, problem) => {
  expect(eventProblems('express-par:callback', event).join('\n')).toMatch(problem)
})
