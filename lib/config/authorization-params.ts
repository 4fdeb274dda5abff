/** Which authorization parameters the app may set, at `auth()` and at `res.oidc.login()`. */

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

/**
 * Why a set of authorization parameters is unacceptable, or `undefined` when it is fine. Shared by
 * `auth()` and `res.oidc.login()`.
 */
export function authorizationParamsProblem(params: Record<string, unknown>): string | undefined {
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue
    if (key === 'response_type' && value === 'code') continue
    if (RESERVED_AUTHORIZATION_PARAMS.has(key)) {
      return `\`${key}\` is set by express-par on every request (PAR, PKCE S256, state, nonce, response_type=code with the query response mode, redirect_uri = baseURL + routes.callback); remove it.`
    }
    if (typeof value !== 'string') return `\`${key}\` must be a string, got ${typeof value}.`
    if (key === 'max_age' && !/^\d{1,9}$/.test(value)) return `\`max_age\` must be a whole number of seconds, got ${JSON.stringify(value)}.`
    if (key === 'claims' && !isJsonObject(value)) return '`claims` must be a JSON object (OpenID Connect Core §5.5), as a string.'
  }
  const scope = params.scope
  if (scope !== undefined && !String(scope).split(' ').includes('openid')) {
    return '`scope` must include `openid`: express-par logs users in with OpenID Connect.'
  }
  return undefined
}

function isJsonObject(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value)
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
  } catch {
    return false
  }
}
