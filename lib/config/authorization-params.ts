/**
 * Which authorization parameters the app may set, at `auth()` and at `res.oidc.login()`, and how
 * they travel: every value as a string inside the pushed request (and so, with JAR, inside the
 * signed request object, where openid-client turns `max_age`, `claims` and `authorization_details`
 * back into a number, an object and an array). Besides strings, `max_age` takes a number (whole
 * seconds), `claims` an object (OpenID Connect Core §5.5) and `authorization_details` an array of
 * objects (RFC 9396 §2); their string forms keep working.
 */

import { authorizationDetailsProblem, jsonText } from '../op/authorization-details.js'

/**
 * Authorization parameters express-par sets itself on every request. Accepting them from the app
 * would let it weaken PKCE, state, nonce or the redirect URI, so they are refused.
 */
export const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'code_verifier',
  'request',
  'request_uri',
  'response_mode',
])

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

function parsedJson(value: string): unknown {
  try {
    return JSON.parse(value)
  } catch {
    return undefined
  }
}

/** `max_age`: a whole number of seconds, as a number or as its decimal string. */
function maxAgeProblem(value: unknown): string | undefined {
  const fine = typeof value === 'number' ? Number.isSafeInteger(value) && value >= 0 && value <= 999_999_999 : typeof value === 'string' && /^\d{1,9}$/.test(value)
  return fine ? undefined : `\`max_age\` must be a whole number of seconds (a number or a string of digits), got ${JSON.stringify(value) ?? typeof value}.`
}

/** `claims`: a JSON object (OpenID Connect Core §5.5), as an object or as its JSON text. */
function claimsProblem(value: unknown): string | undefined {
  const parsed = typeof value === 'string' ? parsedJson(value) : value
  if (!isObject(parsed) || (typeof value !== 'string' && jsonText(value) === undefined)) {
    return '`claims` must be a JSON object (OpenID Connect Core §5.5): an object, or its JSON text as a string.'
  }
  return undefined
}

/** `authorization_details`: an array of objects with a string `type` (RFC 9396 §2), or its JSON text. */
function authorizationDetailsParamProblem(value: unknown): string | undefined {
  const parsed = typeof value === 'string' ? parsedJson(value) : value
  const problem = authorizationDetailsProblem(parsed)
  return problem === undefined ? undefined : `\`authorization_details\` ${problem}${typeof value === 'string' ? ' (read as the JSON text of one)' : ''}.`
}

/** Parameters that take more than a string, with the check of each. */
const TYPED: Record<string, (value: unknown) => string | undefined> = {
  max_age: maxAgeProblem,
  claims: claimsProblem,
  authorization_details: authorizationDetailsParamProblem,
}

/**
 * Why a set of authorization parameters is unacceptable, or `undefined` when it is fine. Shared by
 * `auth()` and `res.oidc.login()`.
 */
export function authorizationParamsProblem(params: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    if (key === 'response_type' && value === 'code') continue
    if (key === 'response_mode') {
      return "`response_mode` is set by express-par on every request: the query response mode, or `jwt` (JARM, signed authorization responses) with the `responseMode: 'jwt'` option of `auth()`; remove it."
    }
    if (RESERVED_AUTHORIZATION_PARAMS.has(key)) {
      return `\`${key}\` is set by express-par on every request (PAR, PKCE S256, state, nonce, response_type=code, redirect_uri = baseURL + routes.callback); remove it.`
    }
    const typed = Object.hasOwn(TYPED, key) ? TYPED[key]! : undefined
    if (typed) {
      const problem = typed(value)
      if (problem) return problem
    } else if (typeof value !== 'string') {
      return `\`${key}\` must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}.`
    }
  }
  const scope = params.scope
  if (scope !== undefined && !String(scope).split(' ').includes('openid')) {
    return '`scope` must include `openid`: express-par logs users in with OpenID Connect.'
  }
  return undefined
}

/**
 * The parameters as the pushed request carries them: strings, numbers in decimal, objects and
 * arrays as JSON text; `undefined` ones left out. Only for parameters {@link authorizationParamsProblem}
 * accepted.
 */
export function serialisedAuthorizationParams(params: Record<string, unknown>): Record<string, string> {
  const serialised: Record<string, string> = {}
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    serialised[key] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value)
  }
  return serialised
}
