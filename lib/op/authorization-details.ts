/**
 * Rich Authorization Requests (RFC 9396): the shape of `authorization_details`, both as the app
 * asks for them (`authorizationParams`, checked by `auth()` and `res.oidc.login()`, pushed as JSON
 * and so signed inside the request object with JAR) and as the token response grants them (§7:
 * stored with the login, read as `req.oidc.authorizationDetails`).
 *
 * express-par checks the shape RFC 9396 §2 gives every detail (a JSON object with a string `type`);
 * what a type's other fields mean is between the app and the OP, which validates them.
 */

import { parError } from '../errors.js'

/**
 * One authorization detail (RFC 9396 §2): a `type`, the common fields of §2.2 when the type uses
 * them, and whatever else the type defines (e.g. `instructedAmount` of a payment initiation).
 *
 * @example
 * ```ts
 * const payment: AuthorizationDetail = {
 *   type: 'payment_initiation',
 *   instructedAmount: { currency: 'EUR', amount: '123.50' },
 *   creditorName: 'Merchant A',
 *   creditorAccount: { iban: 'DE02100100109307118603' },
 * }
 * ```
 */
export interface AuthorizationDetail {
  type: string
  locations?: string[]
  actions?: string[]
  datatypes?: string[]
  identifier?: string
  privileges?: string[]
  [field: string]: unknown
}

/** A JSON object: a plain object of any realm (JSON.parse of another realm makes them too), not an array, a Date, a Map, .... */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === null || Object.getPrototypeOf(proto) === null
}

/** What a non-object is, for a message (never its value: in a token response it is the OP's). */
const kindOf = (value: unknown): string =>
  Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value === 'object' ? 'an object that is not plain JSON (a Date, a Map, a class instance)' : `a ${typeof value}`

/** A JSON text of `value`, or `undefined` when it has no JSON form (a cycle, a BigInt, a function). */
export function jsonText(value: unknown): string | undefined {
  try {
    const text = JSON.stringify(value)
    return typeof text === 'string' ? text : undefined
  } catch {
    return undefined
  }
}

/**
 * Why `value` is not a list of authorization details (RFC 9396 §2), or `undefined` when it is: an
 * array of JSON objects, each with a non-empty string `type`. An empty list is refused when
 * `allowEmpty` is false (a request: leave the parameter out instead).
 */
export function authorizationDetailsProblem(value: unknown, { allowEmpty = false }: { allowEmpty?: boolean } = {}): string | undefined {
  if (!Array.isArray(value)) return 'must be an array of objects (RFC 9396 §2)'
  if (value.length === 0 && !allowEmpty) return 'is an empty array; leave it out instead'
  for (const [i, detail] of value.entries()) {
    if (!isPlainObject(detail)) return `must be an array of objects (RFC 9396 §2), but entry ${i} is ${kindOf(detail)}`
    if (typeof detail.type !== 'string' || detail.type === '') return `entry ${i} has no \`type\` string (RFC 9396 §2 requires one in every detail)`
  }
  if (jsonText(value) === undefined) return 'cannot be written as JSON (a cycle, a BigInt or a function inside)'
  return undefined
}

/** A copy that is plain JSON, without `__proto__` members (a later copy by assignment would make them prototypes). */
function plainCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (key, member: unknown) => (key === '__proto__' ? undefined : member)) as T
}

/**
 * The `authorization_details` a token response granted (RFC 9396 §7), as stored with the login, or
 * `undefined` when it has none. Throws `ERR_TOKEN_RESPONSE_INVALID` for any other shape: the login
 * (or the refresh) is refused rather than stored with details the app cannot rely on.
 */
export function grantedAuthorizationDetails(value: unknown, step: 'token' | 'refresh'): AuthorizationDetail[] | undefined {
  if (value === undefined) return undefined
  const problem = authorizationDetailsProblem(value, { allowEmpty: true })
  if (problem !== undefined) {
    throw parError(
      'ERR_TOKEN_RESPONSE_INVALID',
      `The ${step === 'token' ? 'token' : 'refresh'} response's authorization_details ${problem}, so what the OP granted is unknown: nothing is stored. The OP is broken, or something answers in its place.`,
    )
  }
  return plainCopy(value as AuthorizationDetail[])
}
