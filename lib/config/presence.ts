/**
 * The first check of `auth()`: which options are unknown and which required ones are missing, all
 * reported in one `ERR_CONFIG_INVALID`, so that one restart shows everything to fix rather than
 * one problem per restart. The checks that follow (URLs, keys, routes, ...) each report their own.
 */

import { resolveClientAuth, type ClientAuthOptions } from '../op/client-auth.js'
import { ExpressParError } from '../errors.js'
import { configError, unknownOption } from './checks.js'
import { EXPRESS_OPENID_CONNECT_HINTS } from './migration-hints.js'

const REQUIRED = [
  ['issuerBaseURL', "the OP's issuer identifier, e.g. https://op.example.com"],
  ['baseURL', "this app's URL, e.g. https://app.example.com (redirect_uri = baseURL + routes.callback)"],
  ['clientID', "the client's identifier in its registration at the OP"],
] as const

const PREFIX = 'express-par: '

/** The message of an `ERR_CONFIG_INVALID` without its `express-par: ` prefix. */
function problemOf(err: unknown): string {
  if (!(err instanceof ExpressParError) || err.code !== 'ERR_CONFIG_INVALID') throw err
  return err.message.startsWith(PREFIX) ? err.message.slice(PREFIX.length) : err.message
}

/** Each unknown option, with what to do instead when it is one of express-openid-connect's. */
function unknownOptions(given: object, known: readonly string[]): string[] {
  return Object.keys(given)
    .filter((key) => !known.includes(key))
    .map((key) => {
      const hint = EXPRESS_OPENID_CONNECT_HINTS.get(key)
      return hint ? `\`${key}\` (an express-openid-connect option) is not used here: ${hint}` : unknownOption(key, known, '')
    })
}

/** Each required option that is absent (`undefined` counts as absent), the credential included. */
function missingOptions(given: Record<string, unknown>): string[] {
  const missing: string[] = REQUIRED.filter(([name]) => given[name] === undefined).map(([name, what]) => `\`${name}\` is required: ${what}.`)
  // The credential depends on clientAuthMethod: without a secret or a key, resolveClientAuth names
  // the one the method needs (it has no key to load, so this costs nothing).
  if (given.clientSecret === undefined && given.clientAssertionSigningKey === undefined) {
    try {
      resolveClientAuth(given as ClientAuthOptions)
    } catch (err) {
      missing.push(problemOf(err))
    }
  }
  return missing
}

/**
 * Throws one `ERR_CONFIG_INVALID` listing every unknown option and every missing required one, or
 * returns when there is none. `given` has its `undefined` values removed already.
 */
export function checkPresence(options: object, known: readonly string[]): void {
  const given = options as Record<string, unknown>
  const problems = [...unknownOptions(given, known), ...missingOptions(given)]
  if (problems.length === 0) return
  // express-openid-connect read ISSUER_BASE_URL, BASE_URL, CLIENT_ID, ... by itself.
  const envHint = REQUIRED.some(([name]) => given[name] === undefined)
    ? '\nexpress-par reads no environment variables: pass each value yourself, e.g. `issuerBaseURL: process.env.ISSUER_BASE_URL`.'
    : ''
  const list = problems.length === 1 ? problems[0]! : `auth() has ${problems.length} problems with its options, all listed here:\n${problems.map((p) => `- ${p}`).join('\n')}`
  throw configError(list + envHint)
}
