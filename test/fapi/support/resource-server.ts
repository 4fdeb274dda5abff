/**
 * A small resource server for the tests, over HTTPS (asking for client certificates): it accepts
 * the FAPI OP's JWT access tokens for {@link RESOURCE} and checks their binding the way RFC 9449
 * §7 and RFC 8705 §3 say a resource server must:
 *
 * - `cnf.jkt` (DPoP): the `DPoP` scheme (case-insensitive), one proof whose signature verifies
 *   with its embedded key, whose key has that thumbprint, with `typ: dpop+jwt`, `htm` = the method,
 *   `htu` = the URL without query, `ath` = the token's hash, a fresh `iat`, an unseen `jti` and,
 *   while `requireNonce` is on, the server's current nonce (else a `use_dpop_nonce` challenge in
 *   the scheme spelling of `challengeScheme`);
 * - `cnf.x5t#S256` (mTLS): the TLS client certificate has that SHA-256 thumbprint.
 *
 * Verification is jose's; every request is logged with what was refused.
 */

import https from 'node:https'
import { createHash, randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { EmbeddedJWK, calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK } from 'jose'
import type { Pki } from '../../support/pki.js'
import { RESOURCE } from './fapi-op.js'

export interface RsRequest {
  scheme: string | undefined
  /** What was refused, or `ok`. */
  outcome: string
  binding: 'dpop' | 'mtls' | 'none' | undefined
}

export interface ResourceServer {
  url: string
  requests: RsRequest[]
  /** Require the current DPoP nonce (default true). */
  requireNonce: boolean
  /** How the `use_dpop_nonce` challenge spells the scheme (default `DPoP`). */
  challengeScheme: string
  /** A new nonce: proofs with the previous one are refused from now on. */
  rotateNonce(): void
  close(): Promise<void>
}

const b64sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('base64url')

export async function startResourceServer(pki: Pki, issuer: string, opJwks: { keys: JWK[] }): Promise<ResourceServer> {
  const server = https.createServer({ ...pki.server, requestCert: true, rejectUnauthorized: false })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://localhost:${(server.address() as AddressInfo).port}`
  const keys = createLocalJWKSet(opJwks)
  const seenJti = new Set<string>()
  let nonce = randomBytes(16).toString('base64url')

  const rs: ResourceServer = {
    url,
    requests: [],
    requireNonce: true,
    challengeScheme: 'DPoP',
    rotateNonce: () => {
      nonce = randomBytes(16).toString('base64url')
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }

  async function check(req: import('node:http').IncomingMessage): Promise<{ status: number; headers?: Record<string, string>; body: unknown; log: RsRequest }> {
    const authorization = req.headers.authorization ?? ''
    const [, scheme, token] = /^(\S+) (\S+)$/.exec(authorization) ?? []
    const log: RsRequest = { scheme, outcome: 'ok', binding: undefined }
    const refuse = (outcome: string, status = 401, headers?: Record<string, string>) => ({ status, headers, body: { error: 'invalid_token', outcome }, log: { ...log, outcome } })
    if (!token) return refuse('no token')
    let claims: Record<string, unknown>
    try {
      ;({ payload: claims } = await jwtVerify(token, keys, { issuer, audience: RESOURCE, typ: 'at+jwt', algorithms: ['PS256'] }))
    } catch (err) {
      return refuse(`access token: ${(err as Error).message}`)
    }
    const cnf = (claims.cnf ?? {}) as { jkt?: string; 'x5t#S256'?: string }
    if (cnf.jkt) {
      log.binding = 'dpop'
      if (scheme!.toLowerCase() !== 'dpop') return refuse(`a DPoP-bound token sent with the ${scheme} scheme`)
      const proof = req.headers.dpop
      if (typeof proof !== 'string') return refuse('no DPoP proof')
      let header: { jwk?: JWK }
      let payload: Record<string, unknown>
      try {
        const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'EdDSA', 'PS256'] })
        header = verified.protectedHeader as { jwk?: JWK }
        payload = verified.payload
      } catch (err) {
        return refuse(`DPoP proof: ${(err as Error).message}`)
      }
      if ((await calculateJwkThumbprint(header.jwk!)) !== cnf.jkt) return refuse('the proof key is not the one the token is bound to')
      if (payload.htm !== req.method) return refuse(`htm ${String(payload.htm)} for a ${req.method}`)
      const htu = `${url}${new URL(req.url ?? '/', url).pathname}`
      if (payload.htu !== htu) return refuse(`htu ${String(payload.htu)} for ${htu}`)
      if (payload.ath !== b64sha256(token)) return refuse('ath is not the hash of the access token')
      if (typeof payload.iat !== 'number' || Math.abs(payload.iat - Date.now() / 1000) > 60) return refuse('iat not recent')
      if (typeof payload.jti !== 'string' || seenJti.has(payload.jti)) return refuse('jti missing or replayed')
      seenJti.add(payload.jti)
      if (rs.requireNonce && payload.nonce !== nonce) {
        return refuse(payload.nonce === undefined ? 'no nonce' : 'stale nonce', 401, {
          'www-authenticate': `${rs.challengeScheme} error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`,
          'dpop-nonce': nonce,
        })
      }
    } else if (cnf['x5t#S256']) {
      log.binding = 'mtls'
      const cert = (req.socket as TLSSocket).getPeerX509Certificate?.()
      if (!cert) return refuse('a certificate-bound token without a client certificate')
      if (b64sha256(cert.raw) !== cnf['x5t#S256']) return refuse('the client certificate is not the one the token is bound to')
    } else {
      log.binding = 'none'
    }
    return { status: 200, body: { sub: claims.sub, scope: claims.scope, binding: log.binding }, log }
  }

  server.on('request', (req, res) => {
    check(req)
      .then(({ status, headers, body, log }) => {
        rs.requests.push(log)
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(body))
      })
      .catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(String(err))
      })
  })
  return rs
}
