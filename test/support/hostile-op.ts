/**
 * A scriptable, misbehaving authorization server for tests: discovery, JWKS, PAR, an authorization
 * endpoint that sends the browser straight back with a code, and a token endpoint that mints a
 * signed ID token. Every answer starts out valid (so the happy path works) and each test can bend
 * any of them through `op.bend`. Every request is logged in `op.requests`.
 *
 * This is for the misbehaviours a real OP (oidc-provider) will not produce. Signing is jose's.
 */

import http from 'node:http'
import https from 'node:https'
import type { TLSSocket } from 'node:tls'
import { randomUUID } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { SignJWT, UnsecuredJWT, decodeJwt, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose'

export const HOSTILE_CLIENT_ID = 'hostile-client'
export const HOSTILE_CLIENT_SECRET = 'hostile-client-secret-0123456789abcdef'

/** What an endpoint answers. `hang` never answers (until the server closes); `reset` drops the connection. */
export interface Answer {
  status?: number
  /** Serialised as JSON unless it is a string (sent as is). */
  body?: unknown
  headers?: Record<string, string>
  hang?: boolean
  reset?: boolean
  /** Answer only after this many milliseconds. */
  delay?: number
  /** Send the status, headers and first byte at once, the rest of the body this many milliseconds later. */
  slowBody?: number
  /** Stream the body in chunks without a Content-Length. */
  chunked?: boolean
}

export interface LoggedRequest {
  method: string
  path: string
  query: URLSearchParams
  body: URLSearchParams
  headers: http.IncomingHttpHeaders
  /** SHA-256 fingerprint of the TLS client certificate the request came with (https only). */
  clientCert?: string
}

/** A pushed authorization request the OP accepted, and what it issued for it. */
export interface PushedLogin {
  /** The authorization parameters: the PAR body's, or those inside its request object (JAR; not verified, JSON values as JSON text). */
  params: URLSearchParams
  /** The request object (JAR) the PAR body carried, if any. */
  requestObject?: string
  requestUri: string
  code?: string
  /** The refresh token issued for it (the latest, after refreshes). */
  refreshToken?: string
}

/** A signing key of the OP: private key for signing, public JWK for its JWKS. */
export interface OpKey {
  alg: string
  kid: string | undefined
  privateKey: CryptoKey
  publicJwk: JWK
}

export interface IdTokenContext {
  claims: Record<string, unknown>
  /** Signs `claims` with `key` (default: the current signing key) under `header` overrides. */
  sign(claims: Record<string, unknown>, options?: { key?: OpKey; header?: Record<string, unknown> }): Promise<string>
  login: PushedLogin
}

export interface JarmContext {
  /** A valid JARM response's claims: the authorization response (code, state, iss) with aud, exp. */
  claims: Record<string, unknown>
  /** Signs `claims` with `key` (default: the current signing key) under `header` overrides. */
  sign(claims: Record<string, unknown>, options?: { key?: OpKey; header?: Record<string, unknown> }): Promise<string>
  login: PushedLogin
}

/** Hooks a test sets to bend an answer; each receives the valid answer and returns what to send. */
export interface Bends {
  discovery?: (valid: Record<string, unknown>) => Answer | Record<string, unknown>
  jwks?: (valid: { keys: JWK[] }) => Answer | { keys: unknown[] }
  par?: (valid: Answer, request: LoggedRequest) => Answer | Promise<Answer>
  /** The authorization response's query (default: code, state, iss); with response_mode=jwt, the parameters inside the JARM response. */
  authorize?: (valid: URLSearchParams, login: PushedLogin) => URLSearchParams
  /** With response_mode=jwt: the JARM response (default: the authorization response's claims with aud and exp, signed with the current key). */
  jarm?: (context: JarmContext) => string | Promise<string>
  /** The ID token (default: valid claims signed with the current key). */
  idToken?: (context: IdTokenContext) => string | Promise<string>
  token?: (valid: Answer, request: LoggedRequest) => Answer | Promise<Answer>
}

export interface HostileOP {
  issuer: string
  requests: LoggedRequest[]
  logins: PushedLogin[]
  bend: Bends
  /** The key ID tokens are signed with. */
  signingKey: OpKey
  /** The keys published at jwks_uri. */
  published: OpKey[]
  /** Number of requests to `path` so far. */
  count(path: string): number
  /** Signs `claims` as the OP would (default: its current signing key), e.g. a logout token; `header` overrides the JWS header. */
  sign(claims: Record<string, unknown>, options?: { key?: OpKey; header?: Record<string, unknown> }): Promise<string>
  newKey(alg?: 'RS256' | 'PS256' | 'ES256', kid?: string): Promise<OpKey>
  /** Back to valid answers and the first key, with empty logs. */
  reset(): Promise<void>
  close(): Promise<void>
}

export const PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  par: '/par',
  authorize: '/authorize',
  token: '/token',
} as const

function isAnswer(value: unknown): value is Answer {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['status', 'hang', 'reset', 'headers', 'delay', 'slowBody', 'chunked'].some((key) => key in value) &&
    !('keys' in value)
  )
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

export interface HostileOPOptions {
  /** Serve https with this certificate, asking clients for theirs (for mTLS), instead of http. */
  tls?: { key: string; cert: string }
  /** The algorithm of the first signing key `key-1` (default RS256). */
  signingAlg?: 'RS256' | 'PS256' | 'ES256'
}

/** The authorization parameters inside a request object, read without verifying it (a test OP). */
function insideRequestObject(requestObject: string): URLSearchParams {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(decodeJwt(requestObject))) params.set(name, typeof value === 'string' ? value : JSON.stringify(value))
  return params
}

export async function startHostileOP(options: HostileOPOptions = {}): Promise<HostileOP> {
  const server = options.tls ? https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: false }) : http.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `${options.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  const hanging = new Set<http.ServerResponse>()

  async function newKey(alg: 'RS256' | 'PS256' | 'ES256' = 'RS256', kid: string | undefined = randomUUID()): Promise<OpKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
    const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig', ...(kid && { kid }) }
    return { alg, kid, privateKey, publicJwk }
  }

  const first = await newKey(options.signingAlg ?? 'RS256', 'key-1')
  const op: HostileOP = {
    issuer,
    requests: [],
    logins: [],
    bend: {},
    signingKey: first,
    published: [first],
    count: (path) => op.requests.filter((r) => r.path === path).length,
    sign: (claims, options) => sign(claims, options),
    newKey,
    async reset() {
      op.requests.length = 0
      op.logins.length = 0
      op.bend = {}
      op.signingKey = first
      op.published = [first]
    },
    async close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }

  function metadata(): Record<string, unknown> {
    return {
      issuer,
      authorization_endpoint: issuer + PATHS.authorize,
      token_endpoint: issuer + PATHS.token,
      jwks_uri: issuer + PATHS.jwks,
      pushed_authorization_request_endpoint: issuer + PATHS.par,
      require_pushed_authorization_requests: true,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'self_signed_tls_client_auth'],
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'PS256'],
      authorization_response_iss_parameter_supported: true,
      response_modes_supported: ['query', 'jwt'],
      authorization_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
      request_object_signing_alg_values_supported: ['PS256', 'ES256', 'RS256'],
    }
  }

  async function sign(claims: Record<string, unknown>, options: { key?: OpKey; header?: Record<string, unknown> } = {}): Promise<string> {
    const key = options.key ?? op.signingKey
    const header: Record<string, unknown> = { alg: key.alg, ...(key.kid && { kid: key.kid }), ...options.header }
    if (header.alg === 'none') return new UnsecuredJWT(claims).encode()
    // A `crit` header is signed as given (jose checks crit on signing too, so declare it understood).
    const crit = Array.isArray(header.crit) ? Object.fromEntries((header.crit as string[]).map((name) => [name, true])) : undefined
    return new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key.privateKey, crit && { crit })
  }

  /** The authorization response as a JARM response: its parameters as claims, with aud and exp, signed (or as `bend.jarm` has it). */
  async function jarmResponse(parameters: URLSearchParams, login: PushedLogin): Promise<string> {
    const claims: Record<string, unknown> = { ...Object.fromEntries(parameters), aud: HOSTILE_CLIENT_ID, exp: Math.floor(Date.now() / 1000) + 120 }
    return (op.bend.jarm ?? ((c: JarmContext) => c.sign(c.claims)))({ claims, sign, login })
  }

  /** The code grant, or (rotating the refresh token, with an ID token without nonce) the refresh grant. */
  async function tokenAnswer(request: LoggedRequest): Promise<Answer> {
    // A request with a DPoP proof gets DPoP-bound tokens, as an OP that honours it answers.
    const tokenType = request.headers.dpop ? 'DPoP' : 'Bearer'
    const refreshing = request.body.get('grant_type') === 'refresh_token'
    const login = refreshing
      ? op.logins.find((l) => l.refreshToken !== undefined && l.refreshToken === request.body.get('refresh_token'))
      : op.logins.find((l) => l.code !== undefined && l.code === request.body.get('code'))
    if (!login) return { status: 400, body: { error: 'invalid_grant', error_description: refreshing ? 'unknown refresh token' : 'unknown code' } }
    const now = Math.floor(Date.now() / 1000)
    const claims: Record<string, unknown> = {
      iss: issuer,
      sub: 'alice',
      aud: HOSTILE_CLIENT_ID,
      iat: now,
      exp: now + 300,
      ...(!refreshing && { nonce: login.params.get('nonce') }),
      name: 'Alice Example',
    }
    const idToken = await (op.bend.idToken ?? ((c: IdTokenContext) => c.sign(c.claims)))({ claims, sign, login })
    login.refreshToken = `rt-${randomUUID()}`
    return {
      status: 200,
      body: { access_token: `at-${randomUUID()}`, token_type: tokenType, expires_in: 300, id_token: idToken, refresh_token: login.refreshToken, scope: 'openid' },
    }
  }

  async function answer(request: LoggedRequest): Promise<Answer> {
    switch (request.path) {
      case PATHS.discovery: {
        const bent = op.bend.discovery ? op.bend.discovery(metadata()) : metadata()
        return isAnswer(bent) ? bent : { body: bent }
      }
      case PATHS.jwks: {
        const valid = { keys: op.published.map((k) => k.publicJwk) }
        const bent = op.bend.jwks ? op.bend.jwks(valid) : valid
        return isAnswer(bent) ? bent : { body: bent }
      }
      case PATHS.par: {
        const requestUri = `urn:ietf:params:oauth:request_uri:${randomUUID()}`
        const valid: Answer = { status: 201, body: { request_uri: requestUri, expires_in: 60 } }
        const requestObject = request.body.get('request') ?? undefined
        op.logins.push({ params: requestObject ? insideRequestObject(requestObject) : request.body, requestUri, ...(requestObject && { requestObject }) })
        return op.bend.par ? op.bend.par(valid, request) : valid
      }
      case PATHS.authorize: {
        const login = op.logins.find((l) => l.requestUri === request.query.get('request_uri'))
        if (!login) return { status: 400, body: 'unknown request_uri' }
        login.code = randomUUID()
        const valid = new URLSearchParams({ code: login.code, state: login.params.get('state') ?? '', iss: issuer })
        let query = op.bend.authorize ? op.bend.authorize(valid, login) : valid
        if (login.params.get('response_mode') === 'jwt') query = new URLSearchParams({ response: await jarmResponse(query, login) })
        return { status: 302, headers: { location: `${login.params.get('redirect_uri')}?${query}` } }
      }
      case PATHS.token: {
        const valid = await tokenAnswer(request)
        return op.bend.token ? op.bend.token(valid, request) : valid
      }
      default:
        return { status: 404, body: { error: 'not_found' } }
    }
  }

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', issuer)
      const request: LoggedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        body: new URLSearchParams(await readBody(req)),
        headers: req.headers,
      }
      const peer = (req.socket as Partial<TLSSocket>).getPeerX509Certificate?.()
      if (peer) request.clientCert = peer.fingerprint256
      op.requests.push(request)
      const reply = await answer(request)
      if (reply.delay) await new Promise((resolve) => setTimeout(resolve, reply.delay))
      if (reply.reset) {
        req.socket.destroy()
        return
      }
      if (reply.hang) {
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        return
      }
      const text = typeof reply.body === 'string' ? reply.body : reply.body === undefined ? '' : JSON.stringify(reply.body)
      const contentType = typeof reply.body === 'string' ? 'text/html' : 'application/json'
      const length = reply.chunked || reply.slowBody !== undefined ? {} : { 'content-length': String(Buffer.byteLength(text)) }
      res.writeHead(reply.status ?? 200, { 'content-type': contentType, 'cache-control': 'no-store', ...length, ...reply.headers })
      if (reply.slowBody !== undefined) {
        hanging.add(res)
        res.on('close', () => hanging.delete(res))
        res.write(text.slice(0, 1))
        setTimeout(() => res.end(text.slice(1)), reply.slowBody).unref()
      } else if (reply.chunked) {
        for (let at = 0; at < text.length; at += 65536) res.write(text.slice(at, at + 65536))
        res.end()
      } else {
        res.end(text)
      }
    })().catch((err: unknown) => {
      res.writeHead(599, { 'content-type': 'text/plain' })
      res.end(`hostile OP failed: ${String(err)}`)
    })
  })
  return op
}
