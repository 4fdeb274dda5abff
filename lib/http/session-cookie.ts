import type { Request, Response } from 'express'

/**
 * Clearing express-session's cookie. express-session does not expose its cookie name on `req`, so
 * the cookie is found by its value: express-session signs the session id as `s:<id>.<signature>`,
 * and the cookie whose value carries `req.sessionID` that way is the session cookie, whatever it
 * is named. Call {@link sessionCookie} before the session is destroyed (its id and cookie options
 * go with it).
 */

export interface SessionCookie {
  name: string
  options: { path?: string; domain?: string; secure?: boolean; httpOnly?: boolean; sameSite?: boolean | 'lax' | 'strict' | 'none' }
}

/** The request's session cookie: its name and the attributes it was set with (a clearing cookie must match path and domain). */
export function sessionCookie(req: Request): SessionCookie | undefined {
  const header = req.headers.cookie
  const id = req.sessionID
  if (!header || typeof id !== 'string') return undefined
  const signed = `s:${id}.`
  for (const part of header.split(';')) {
    const at = part.indexOf('=')
    if (at === -1) continue
    let value = part.slice(at + 1).trim()
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    try {
      value = decodeURIComponent(value)
    } catch {
      continue
    }
    if (!value.startsWith(signed)) continue
    const cookie = req.session?.cookie
    const sameSite = cookie?.sameSite
    return {
      name: part.slice(0, at).trim(),
      options: {
        path: cookie?.path ?? '/',
        ...(cookie?.domain && { domain: cookie.domain }),
        ...(cookie?.secure === true && { secure: true }),
        ...(cookie?.httpOnly !== false && { httpOnly: true }),
        ...(sameSite !== undefined && { sameSite }),
      },
    }
  }
  return undefined
}

/** Tells the browser to drop `cookie` (an expired cookie of the same name, path and domain). */
export function clearSessionCookie(res: Response, cookie: SessionCookie | undefined): void {
  if (cookie !== undefined && !res.headersSent) res.clearCookie(cookie.name, cookie.options)
}
