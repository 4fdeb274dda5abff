import type { Request } from 'express'

/**
 * Whether a state-changing request (logout) comes from the app's own pages (or from the user
 * typing the URL), judged the way browsers let servers judge it:
 *
 * - Fetch Metadata, where the browser sends it (every current browser): `Sec-Fetch-Site` must be
 *   `same-origin` or `none` (typed, bookmarked). `same-site` (a sibling subdomain) is another
 *   origin and is refused.
 * - Without it (older browsers), only a POST whose `Origin` is the app's origin: browsers send
 *   `Origin` on every form POST, and no page of another origin can forge it. A GET carries no
 *   `Origin`, so such a browser can log out with a POST form only.
 */
export function fromOwnOrigin(req: Request, origin: string): boolean {
  const site = req.headers['sec-fetch-site']
  if (site !== undefined) return site === 'same-origin' || site === 'none'
  return req.method === 'POST' && req.headers.origin === origin
}
