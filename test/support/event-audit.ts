/**
 * The secret scan of the audit trail, for every test file (jest `setupFilesAfterEnv`): it
 * subscribes to every express-par channel for the whole file and, after the file's tests, fails
 * the file if any published message carried something it must not: a field outside the documented
 * ones, a JWT (ID, access, refresh or logout token), a signed session cookie, a client secret of
 * the test stacks, or a long random string (codes, verifiers, states, nonces, opaque tokens and
 * session ids are all 32+ characters of base64url) outside `sub`, which an OP may make long and
 * random. The session digest is 22 characters.
 */

import { subscribe, unsubscribe } from 'node:diagnostics_channel'

const CHANNELS = ['login', 'callback', 'logout', 'refresh', 'backchannel-logout'].map((name) => `express-par:${name}`)

const FIELDS = new Set(['outcome', 'code', 'issuer', 'clientID', 'name', 'sub', 'durationMs', 'error', 'session', 'acr', 'amr'])

/** Client secrets of the test stacks (they never belong in an event). */
const KNOWN_SECRETS = ['test-client-secret-0123456789', 'hostile-client-secret-0123456789abcdef', 'example-app-secret', 'scale-client-secret-0123456789']

const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}/
const SIGNED_COOKIE = /s(%3A|:)[\w-]{16,}\./
const LONG_RANDOM = /[\w-]{32,}/

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (Array.isArray(value)) return value.flatMap(stringsOf)
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsOf)
  return []
}

/** What is wrong with one published message (empty when nothing is). */
export function eventProblems(channel: string, message: unknown): string[] {
  if (message === null || typeof message !== 'object') return [`${channel}: not an object`]
  const event = message as Record<string, unknown>
  const problems: string[] = []
  for (const key of Object.keys(event)) if (!FIELDS.has(key)) problems.push(`${channel}: unexpected field ${key}`)
  if (event.outcome !== 'success' && event.outcome !== 'failure') problems.push(`${channel}: outcome ${String(event.outcome)}`)
  if (event.session !== undefined && !/^[\w-]{22}$/.test(String(event.session))) problems.push(`${channel}: session is not a 22-character digest`)
  if (event.error !== undefined && !/^[a-z0-9_]{1,64}$/i.test(String(event.error))) problems.push(`${channel}: error is not an OAuth error code`)
  for (const [key, value] of Object.entries(event)) {
    if (key === 'session' || key === 'issuer') continue
    for (const text of stringsOf(value)) {
      if (JWT.test(text)) problems.push(`${channel}: ${key} holds a JWT`)
      if (SIGNED_COOKIE.test(text)) problems.push(`${channel}: ${key} holds a signed session cookie`)
      // A subject identifier may be long and random (pairwise or opaque `sub`s): only the rest may not.
      if (key !== 'sub' && LONG_RANDOM.test(text)) problems.push(`${channel}: ${key} holds a long random string (a code, token, verifier, state, nonce or session id?)`)
      for (const secret of KNOWN_SECRETS) if (text.includes(secret)) problems.push(`${channel}: ${key} holds a client secret`)
    }
  }
  return problems
}

const problems: string[] = []
let audited = 0

/** How many messages this test file's scan has seen so far. */
export const auditedEvents = (): number => audited

const listeners = CHANNELS.map(
  (channel) =>
    [
      channel,
      (message: unknown) => {
        audited++
        problems.push(...eventProblems(channel, message))
      },
    ] as const,
)

beforeAll(() => listeners.forEach(([channel, listener]) => subscribe(channel, listener)))
afterAll(() => {
  listeners.forEach(([channel, listener]) => unsubscribe(channel, listener))
  expect(problems).toEqual([])
})
