import { createHash } from 'node:crypto'

/**
 * A short, one-way name for a secret (a state, a refresh token, a session id) to key it in the
 * coordination store or in events without storing the secret itself.
 */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url')
}
