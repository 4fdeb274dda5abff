/** Small validators for `auth()` options: each throws `ERR_CONFIG_INVALID` naming the option to fix. */

import { parError, type ExpressParError } from '../errors.js'
import { suggest } from './suggest.js'

/** The `ERR_CONFIG_INVALID` error `auth()` throws. */
export function configError(message: string, cause?: unknown): ExpressParError {
  return parError('ERR_CONFIG_INVALID', `express-par: ${message}`, cause === undefined ? {} : { cause })
}

export function invalid(message: string): never {
  throw configError(message)
}

/** Why `key` (not in `known`) is refused: "unknown option", with a "did you mean" for a near miss. */
export function unknownOption(key: string, known: readonly string[], where: string): string {
  const hint = suggest(key, known)
  return `unknown option \`${where}${key}\`.${hint ? ` Did you mean \`${where}${hint}\`?` : ''}`
}

export function checkKeys(given: object, known: readonly string[], where: string): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) invalid(unknownOption(key, known, where))
  }
}

/** Drops keys whose value is `undefined`: such an option counts as absent. */
export function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function requireString(value: unknown, name: string): string {
  if (value === undefined) invalid(`\`${name}\` is required.`)
  if (typeof value !== 'string' || value.trim() === '') invalid(`\`${name}\` must be a non-empty string.`)
  return value
}

export function isLoopback(url: URL): boolean {
  return url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
}

export function parseURL(value: string, name: string, allowInsecure: boolean): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    invalid(`\`${name}\` must be an absolute URL, got ${JSON.stringify(value)}.`)
  }
  if (url.protocol === 'http:' && !allowInsecure) {
    invalid(
      `\`${name}\` is an http: URL (${url.href}). Use https:, or set \`allowInsecureRequests: true\` for local development and tests only.`,
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') invalid(`\`${name}\` must be an https: URL, got ${url.protocol}`)
  if (url.search || url.hash) invalid(`\`${name}\` must not have a query or fragment (${url.href}).`)
  return url
}

export function routePath(value: unknown, name: string, disableable: boolean): string | false {
  if (value === false && disableable) return false
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || /[?#\s\\]/.test(value)) {
    invalid(`\`routes.${name}\` must be a path starting with "/"${disableable ? ' or false' : ''}, got ${JSON.stringify(value)}.`)
  }
  return value
}

export function positiveNumber(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    invalid(`\`${name}\` must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${JSON.stringify(value)}.`)
  }
  return value
}
