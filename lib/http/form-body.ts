/**
 * Reading a small form-encoded body on a public route (the OP's back-channel logout call) with a
 * size limit enforced before anything is parsed: a `Content-Length` over the limit is refused
 * unread, and a body without one stops being read as soon as it passes the limit.
 *
 * When the app registered a body parser before `auth()` (`express.urlencoded()`), the body is
 * already parsed, under that parser's own limit: its `req.body` is used.
 */

import type { Request } from 'express'
import { parError } from '../errors.js'

const invalid = (why: string) => parError('ERR_BACKCHANNEL_REQUEST_INVALID', `The back-channel logout request ${why}.`)

function isFormEncoded(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  return type === 'application/x-www-form-urlencoded'
}

/** The values of `name` in a body some parser already read, or `undefined` when none did. */
function parsedValues(req: Request, name: string): string[] | undefined {
  if (!req.readableEnded || typeof req.body !== 'object' || req.body === null) return undefined
  const value = (req.body as Record<string, unknown>)[name]
  if (value === undefined) return []
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
  return ['', ''] // an object or mixed array (extended parsers): not one plain value
}

function readRaw(req: Request, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (err: Error | undefined, body?: string) => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted)
      if (err) reject(err)
      else resolve(body!)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.pause()
        done(invalid(`body is larger than ${limit} bytes`))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => done(undefined, Buffer.concat(chunks).toString('utf8'))
    const onError = () => done(invalid('body could not be read'))
    const onAborted = () => done(invalid('was aborted while its body was read'))
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted)
  })
}

/**
 * The values of the form field `name` in `req`'s body (every occurrence), refusing a body that is
 * not `application/x-www-form-urlencoded` or is larger than `limit` bytes.
 */
export async function formValues(req: Request, name: string, limit: number): Promise<string[]> {
  if (!isFormEncoded(req)) throw invalid('is not application/x-www-form-urlencoded')
  const parsed = parsedValues(req, name)
  if (parsed !== undefined) return parsed
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) throw invalid(`body is larger than ${limit} bytes (Content-Length ${declared})`)
  if (req.readableEnded) throw invalid('body was already read by another middleware that did not parse it')
  return new URLSearchParams(await readRaw(req, limit)).getAll(name)
}
