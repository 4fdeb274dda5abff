import type { Request } from 'express'

/** The raw query of a request as `URLSearchParams`, independent of Express's `query parser` setting. */
export function rawQuery(req: Request): URLSearchParams {
  const url = req.originalUrl ?? req.url
  const at = url.indexOf('?')
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1))
}

/** The value of a parameter given exactly once, else `undefined` (absent or duplicated). */
export function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name)
  return values.length === 1 ? values[0] : undefined
}
