/**
 * Same-origin `returnTo` validation: the only places a login may send the browser back to are
 * paths on the app's own origin. Anything else (absolute URLs, `//host`, `/\host`, `javascript:`,
 * control characters) falls back to `/`, so a login link can never become an open redirect.
 */

const MAX_LENGTH = 2048
// C0 controls, DEL and backslash: browsers strip or reinterpret them (`/\evil.com` is `//evil.com`).
const UNSAFE = /[\u0000-\u001f\u007f\\]/

/**
 * Returns `value` normalised as a path (with query and fragment) on `baseURL`'s origin, or
 * `fallback` when `value` is absent or would leave the origin.
 *
 * @example
 * safeReturnTo('/orders?id=7', base) // '/orders?id=7'
 * safeReturnTo('//evil.example', base) // '/'
 */
export function safeReturnTo(value: unknown, baseURL: URL, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback
  if (!value.startsWith('/') || value.startsWith('//') || UNSAFE.test(value)) return fallback
  let url: URL
  try {
    url = new URL(value, baseURL.origin)
  } catch {
    return fallback
  }
  if (url.origin !== baseURL.origin) return fallback
  // Check what is returned, not only what came in: dot segments resolve away (`/.//evil` -> `//evil`).
  const path = url.pathname + url.search + url.hash
  return path.startsWith('//') || UNSAFE.test(path) ? fallback : path
}
