/**
 * Every request to the OP goes through one fetch: openid-client takes it as its `customFetch`
 * (discovery, token), and the PAR and JWKS calls use it directly. It owns what applies to all of
 * them: one deadline, `httpTimeout`, for the whole answer (headers *and* body, so an OP that starts
 * answering in time but trickles its body still times out), and a cap on what is read, since an
 * honest OP never sends a megabyte (a 70 MB token response would otherwise become a 70 MB session).
 * With a client certificate (mTLS), the transport underneath is undici's fetch with its Agent
 * (`mtls.ts`); otherwise Node's fetch.
 */

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
  /** What sends the request: default Node's fetch; with mTLS, undici's fetch carrying the client certificate. */
  transport?: CustomFetch
}

/** `fetch` as openid-client's and oauth4webapi's `customFetch` call it; the answer's body is already read and checked. */
export type OpFetch = CustomFetch

/** Statuses whose Response may not carry a body. */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
  const declared = Number(response.headers.get('content-length'))
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {})
    throw new OpResponseTooLarge(declared, true, maxBytes)
  }
  if (!response.body) return null
  const reader = response.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      await reader.cancel().catch(() => {})
      throw new OpResponseTooLarge(size, false, maxBytes)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(new ArrayBuffer(size))
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}

/**
 * The fetch of one `auth()` instance. Resolves once the whole body has arrived, with a Response
 * whose body is in memory (at most `maxBytes`); rejects with a `TimeoutError` when the answer
 * took longer than `timeoutMs`, with {@link OpResponseTooLarge} when it is too big.
 *
 * @example
 * ```ts
 * const opFetch = createOpFetch({ timeoutMs: 5000 })
 * await client.discovery(issuer, clientID, metadata, clientAuth, { [client.customFetch]: opFetch })
 * ```
 */
export function createOpFetch(options: OpFetchOptions): OpFetch {
  const maxBytes = options.maxBytes ?? MAX_OP_RESPONSE_BYTES
  const transport: CustomFetch = options.transport ?? ((url, init) => fetch(url, init as RequestInit))
  return async (url, init) => {
    if (!options.allowInsecureRequests && new URL(url).protocol !== 'https:') throw new OpInsecureRequest()
    const deadline = AbortSignal.timeout(options.timeoutMs)
    const signal = init.signal ? AbortSignal.any([init.signal, deadline]) : deadline
    const response = await transport(url, { ...init, signal })
    if (response.type === 'opaqueredirect') return response
    const body = await readCapped(response, maxBytes)
    const read = new Response(NULL_BODY.has(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers })
    Object.defineProperty(read, 'url', { value: response.url })
    return read
  }
}
