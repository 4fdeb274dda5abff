import type { Response } from 'express'

/**
 * Sends a `302 Found` to `location` with an empty body: what a browser following a login or
 * logout redirect needs, and nothing more. Express's `res.redirect()` also negotiates a body (an
 * HTML or text page nobody sees) through `Accept` parsing, a measurable share of `/login` and
 * `/callback` (see bench/). `location` must already be serialized: a `URL`'s `href`, or a path
 * from `safeReturnTo()`.
 */
export function redirect(res: Response, location: string): void {
  res.statusCode = 302
  res.setHeader('Location', location)
  res.setHeader('Content-Length', '0')
  res.end()
}
