/**
 * Every request to the OP goes through one fetch: openid-client takes it as its `customFetch`
 * (discovery, token), and the PAR and JWKS calls use it directly. It owns what applies to all of
 * them: one deadline, `httpTimeout`, for the whole answer (headers *and* body, so an OP that starts
 * answering in time but trickles its body still times out), and a cap on what is read, since an
 * honest OP never sends a megabyte (a 70 MB token response would otherwise become a 70 MB session).
 * The transport underneath is undici's `request()`, not `fetch()`: the OP's answer is read whole
 * anyway, and `fetch()` spends about four times the CPU of `request()` on one round trip (its
 * streams and Fetch API objects; see bench/PROFILE.md), which was most of a login's cost. With a
 * client certificate (mTLS), `request()` goes through the certificate's Agent (`mtls.ts`).
 */

import { request, type Dispatcher } from 'undici'
import type { CustomFetch } from 'openid-client'

/** The most an OP response body may hold: far above any honest discovery, JWKS, PAR or token response. */
export const MAX_OP_RESPONSE_BYTES = 1024 * 1024

/** An OP response body over {@link MAX_OP_RESPONSE_BYTES}; `op-errors.ts` names it per step. */
export class OpResponseTooLarge extends Error {
  /** The body's size as its Content-Length declared it, or the bytes read when reading stopped. */
  readonly bytes: number
  readonly declared: boolean

  constructor(bytes: number, declared: boolean, limit: number) {
    super(`the OP's response body is ${declared ? `${bytes} bytes (Content-Length)` : `over ${limit} bytes (stopped reading at ${bytes})`}, more than the ${limit}-byte limit`)
    this.name = this.constructor.name
    this.bytes = bytes
    this.declared = declared
  }
}

/** A request to an `http:` URL without `allowInsecureRequests`. */
export class OpInsecureRequest extends Error {
  constructor() {
    super('the OP named an http: URL, and allowInsecureRequests is off')
    this.name = this.constructor.name
  }
}

export interface OpFetchOptions {
  /** The deadline of each request, headers and body, in milliseconds (`httpTimeout`). */
  timeoutMs: number
  /** Default {@link MAX_OP_RESPONSE_BYTES}. */
  maxBytes?: number
  /** Permit `http:` URLs (`allowInsecureRequests`). */
  allowInsecureRequests?: boolean
  /** The undici dispatcher requests go through: with mTLS, the Agent carrying the client certificate; default undici's global one. */
  dispatcher?: Dispatcher
}

/** `fetch` as openid-client's and oauth4webapi's `customFetch` call it; the answer's body is already read and checked. */
export type OpFetch = CustomFetch

/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

/** Reads `body` whole, refusing more than `maxBytes` (declared by Content-Length, or counted). */
async function readCapped(data: Dispatcher.ResponseData, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const declared = Number(data.headers['content-length'])
  if (Number.isFinite(declared) && declared > maxBytes) {
    data.body.on('error', () => {}).destroy() // the connection is dropped, the body never read
    throw new OpResponseTooLarge(declared, true, maxBytes)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of data.body as AsyncIterable<Buffer>) {
    size += chunk.byteLength
    if (size > maxBytes) throw new OpResponseTooLarge(size, false, maxBytes) // leaving the loop destroys the body
    chunks.push(chunk)
  }
  const body = new Uint8Array(new ArrayBuffer(size))
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}

type RequestBody = string | Uint8Array | null

/** The request body as undici's `request()` takes it, and the content type `fetch()` would have implied. */
function requestBody(body: unknown): { body: RequestBody; impliedType?: string } {
  if (body === undefined || body === null) return { body: null }
  if (typeof body === 'string') return { body, impliedType: 'text/plain;charset=UTF-8' }
  if (body instanceof URLSearchParams) return { body: body.toString(), impliedType: 'application/x-www-form-urlencoded;charset=UTF-8' }
  if (body instanceof Uint8Array) return { body }
  if (body instanceof ArrayBuffer) return { body: new Uint8Array(body) }
  throw new TypeError(`express-par sends the OP strings, forms and bytes, not ${Object.prototype.toString.call(body)}`)
}

function requestHeaders(given: unknown, impliedType: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {}
  if (given instanceof Headers) given.forEach((value, name) => (headers[name] = value))
  else if (given !== undefined && given !== null) for (const [name, value] of Object.entries(given as Record<string, string>)) headers[name.toLowerCase()] = value
  if (impliedType !== undefined && headers['content-type'] === undefined) headers['content-type'] = impliedType
  return headers
}

function responseHeaders(raw: Dispatcher.ResponseData['headers']): Headers {
  const headers = new Headers()
  for (const name of Object.keys(raw)) {
    const value = raw[name]
    if (typeof value === 'string') headers.append(name, value)
    else if (Array.isArray(value)) for (const each of value) headers.append(name, each)
  }
  return headers
}

/**
 * The fetch of one `auth()` instance. Resolves once the whole body has arrived, with a Response
 * whose body is in memory (at most `maxBytes`); rejects with a `TimeoutError` when the answer
 * took longer than `timeoutMs`, with {@link OpResponseTooLarge} when it is too big. Redirects are
 * not followed (openid-client asks for `redirect: 'manual'`): a 3xx comes back as it is.
 *
 * @example
 * ```ts
 * const opFetch = createOpFetch({ timeoutMs: 5000 })
 * await client.discovery(issuer, clientID, metadata, clientAuth, { [client.customFetch]: opFetch })
 * ```
 */
export function createOpFetch(options: OpFetchOptions): OpFetch {
  const maxBytes = options.maxBytes ?? MAX_OP_RESPONSE_BYTES
  const dispatcher = options.dispatcher
  return async (url, init) => {
    if (!options.allowInsecureRequests && new URL(url).protocol !== 'https:') throw new OpInsecureRequest()
    const deadline = AbortSignal.timeout(options.timeoutMs)
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline
    const { body, impliedType } = requestBody(init.body)
    const method = (init.method ?? 'GET').toUpperCase() as Dispatcher.HttpMethod
    const data = await request(url, { method, headers: requestHeaders(init.headers, impliedType), body, signal, ...(dispatcher && { dispatcher }) })
    const read = await readCapped(data, maxBytes)
    const status = data.statusCode
    const response = new Response(NULL_BODY.has(status) ? null : read, { status, headers: responseHeaders(data.headers) })
    Object.defineProperty(response, 'url', { value: url })
    return response
  }
}
