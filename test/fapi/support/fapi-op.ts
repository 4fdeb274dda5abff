/**
 * oidc-provider configured like its own FAPI 2.0 certification setup (certification/fapi in its
 * repository): `features.fapi` profile '2.0', PAR required, PS256 ID tokens, DPoP (with server
 * nonces required for one client), mTLS with certificate-bound access tokens and both TLS client
 * authentication methods, and for the message-signing client JAR, JARM and payment Rich
 * Authorization Requests, served over HTTPS with the test CA's certificate. Access tokens for the
 * test resource server are JWTs (resource indicator {@link RESOURCE}) carrying `cnf`, so the
 * resource server can check the binding.
 *
 * A second HTTPS listener serves the same OP as its `mtls_endpoint_aliases` (RFC 8705 §5), which
 * discovery advertises while `advertiseAliases` is true. Every request is logged with the
 * listener, the DPoP proof and the client certificate it came with.
 */

import https from 'node:https'
import { randomBytes, type X509Certificate } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, type JWK } from 'jose'
// @ts-expect-error oidc-provider ships no types (the example app imports it from JavaScript)
import Provider, { errors } from 'oidc-provider'
// @ts-expect-error idem
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js'
import type { Pki } from '../../support/pki.js'
import { PAYMENT_TYPE, paymentAuthorizationRequests } from '../../../example-app/rar-mode.js'

export const RESOURCE = 'urn:express-par:test-accounts'
export const RESOURCE_SCOPE = 'accounts'

/** The registered clients (their redirect URIs: any https://localhost:<port>/callback). */
export const CLIENTS = {
  /** private_key_jwt + DPoP, the OP requires DPoP nonces. */
  dpopNonce: 'fapi-pkjwt-dpop-nonce',
  /** private_key_jwt + DPoP, no nonce required. */
  dpop: 'fapi-pkjwt-dpop',
  /** self_signed_tls_client_auth + certificate-bound tokens. */
  mtls: 'fapi-mtls-mtls',
  /** tls_client_auth (a CA-issued certificate) + certificate-bound tokens. */
  tlsClientAuth: 'fapi-tls-client-auth-mtls',
  /** private_key_jwt + certificate-bound tokens: the certificate only binds. */
  pkjwtMtls: 'fapi-pkjwt-mtls',
  /** FAPI 2.0 Message Signing: private_key_jwt + DPoP, signed request objects required, JARM (PS256), payment authorization details. */
  messageSigning: 'fapi-ms-pkjwt-dpop',
} as const

export interface OpRequest {
  listener: 'main' | 'alias'
  method: string
  path: string
  clientId: string | undefined
  dpop: string | undefined
  /** SHA-256 fingerprint of the TLS client certificate, if one was presented. */
  clientCert: string | undefined
  status: number
  error: string | undefined
}

export interface FapiOP {
  issuer: string
  aliasOrigin: string
  provider: Provider
  /** The OP's public signing keys, for the resource server. */
  jwks: { keys: JWK[] }
  /** The private key the private_key_jwt clients sign with (PKCS#8 PEM, PS256). */
  clientKeyPem: string
  requests: OpRequest[]
  /** Whether discovery advertises `mtls_endpoint_aliases` (default true). */
  advertiseAliases: boolean
  close(): Promise<void>
}

/** A certificate as a JWK with `x5c`, for self_signed_tls_client_auth's registration. */
async function certificateJwk(cert: X509Certificate): Promise<JWK> {
  return { ...(await exportJWK(cert.publicKey)), x5c: [cert.raw.toString('base64')] }
}

export async function startFapiOP(pki: Pki): Promise<FapiOP> {
  const { X509Certificate } = await import('node:crypto')
  const tls = { ...pki.server, ca: [pki.ca], requestCert: true, rejectUnauthorized: false }
  const main = https.createServer(tls)
  const alias = https.createServer(tls)
  for (const server of [main, alias]) await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `https://127.0.0.1:${(main.address() as AddressInfo).port}`
  const aliasOrigin = `https://127.0.0.1:${(alias.address() as AddressInfo).port}`
  const aliasPort = (alias.address() as AddressInfo).port

  const opKey = await generateKeyPair('PS256', { extractable: true })
  const signingKey = { ...(await exportJWK(opKey.privateKey)), alg: 'PS256', use: 'sig', kid: 'fapi-op-ps256' }
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingKey
  const clientKey = await generateKeyPair('PS256', { extractable: true })
  const clientPublic = await exportJWK(clientKey.publicKey)
  const clientJwk = { ...clientPublic, alg: 'PS256', use: 'sig', kid: await calculateJwkThumbprint(clientPublic) }

  const fapi2 = {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: ['https://localhost/callback'],
    id_token_signed_response_alg: 'PS256',
    authorization_signed_response_alg: 'PS256', // the default RS256 is not enabled here (JARM is on for the message-signing client)
  }
  const pkjwt = { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'PS256', jwks: { keys: [clientJwk] } }
  const clients = [
    { client_id: CLIENTS.dpopNonce, ...fapi2, ...pkjwt, dpop_bound_access_tokens: true },
    { client_id: CLIENTS.dpop, ...fapi2, ...pkjwt, dpop_bound_access_tokens: true },
    {
      client_id: CLIENTS.mtls,
      ...fapi2,
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [await certificateJwk(new X509Certificate(pki.client.cert))] },
      tls_client_certificate_bound_access_tokens: true,
    },
    {
      client_id: CLIENTS.tlsClientAuth,
      ...fapi2,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: new X509Certificate(pki.tlsClient.cert).subject,
      tls_client_certificate_bound_access_tokens: true,
    },
    { client_id: CLIENTS.pkjwtMtls, ...fapi2, ...pkjwt, tls_client_certificate_bound_access_tokens: true },
    {
      client_id: CLIENTS.messageSigning,
      ...fapi2,
      ...pkjwt,
      dpop_bound_access_tokens: true,
      require_signed_request_object: true,
      request_object_signing_alg: 'PS256',
      authorization_details_types: [PAYMENT_TYPE],
    },
  ]
  // The clients come from an adapter, as in the certification setup: static clients are
  // structuredCloned into objects of another realm under jest's module VM, whose inline `jwks`
  // then fail oidc-provider's plain-object check. JSON.parse makes this realm's objects.
  const memory = createMemoryAdapter()
  const adapter = (name: string) => {
    const model = memory(name)
    if (name === 'Client') model.find = async (id: string) => { const found = clients.find((c) => c.client_id === id); return found && JSON.parse(JSON.stringify(found)) }
    return model
  }

  const peer = (ctx: { socket: unknown }) => (ctx.socket as TLSSocket).getPeerX509Certificate?.()
  const provider = new Provider(issuer, {
    adapter,
    jwks: { keys: [JSON.parse(JSON.stringify(signingKey))] },
    cookies: { keys: ['fapi-op-cookie-key-for-tests-only'] },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id, name: 'Alice Example' }) }),
    claims: { openid: ['sub'], profile: ['name'] },
    scopes: ['openid', 'offline_access', RESOURCE_SCOPE],
    pkce: { required: () => true },
    clientAuthMethods: ['private_key_jwt', 'self_signed_tls_client_auth', 'tls_client_auth'],
    enabledJWA: {
      idTokenSigningAlgValues: ['PS256', 'ES256'],
      clientAuthSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
      requestObjectSigningAlgValues: ['PS256', 'ES256', 'EdDSA'],
      dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256'],
      authorizationSigningAlgValues: ['PS256', 'ES256'],
    },
    features: {
      devInteractions: { enabled: true },
      fapi: { enabled: true, profile: '2.0' },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      // FAPI 2.0 Message Signing: signed requests (JAR) and signed responses (JARM); payment consents (RAR).
      requestObjects: { enabled: true, requireSignedRequestObject: false },
      jwtResponseModes: { enabled: true },
      richAuthorizationRequests: paymentAuthorizationRequests(),
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: (ctx: { oidc?: { client?: { clientId: string } } }) => ctx.oidc?.client?.clientId === CLIENTS.dpopNonce },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        selfSignedTlsClientAuth: true,
        tlsClientAuth: true,
        getCertificate: (ctx: { socket: unknown }) => peer(ctx),
        certificateAuthorized: (ctx: { socket: unknown }) => (ctx.socket as TLSSocket).authorized,
        certificateSubjectMatches: (ctx: { socket: unknown }, property: string, expected: string) => property === 'tls_client_auth_subject_dn' && peer(ctx)?.subject === expected,
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, indicator: string) => {
          if (indicator !== RESOURCE) throw new errors.InvalidTarget()
          return { scope: RESOURCE_SCOPE, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg: 'PS256' } } }
        },
      },
    },
  })
  // Like the certification setup: any https://localhost:<port>/callback (the apps pick free ports).
  Object.defineProperty(provider.Client.prototype, 'redirectUriAllowed', {
    value(url: string) {
      try {
        const parsed = new URL(url)
        return parsed.protocol === 'https:' && parsed.hostname === 'localhost' && parsed.pathname === '/callback' && parsed.search === ''
      } catch {
        return false
      }
    },
  })

  const op: FapiOP = {
    issuer,
    aliasOrigin,
    provider,
    jwks: { keys: [publicJwk] },
    clientKeyPem: await exportPKCS8(clientKey.privateKey),
    requests: [],
    advertiseAliases: true,
    async close() {
      for (const server of [main, alias]) {
        server.closeAllConnections()
        await new Promise<void>((resolve) => server.close(() => resolve()))
      }
    },
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    await next()
    const body = ctx.body as Record<string, unknown> | undefined
    op.requests.push({
      listener: ctx.req.socket.localPort === aliasPort ? 'alias' : 'main',
      method: ctx.method,
      path: ctx.path,
      clientId: (ctx.oidc as { client?: { clientId: string } } | undefined)?.client?.clientId,
      dpop: ctx.get('dpop') || undefined,
      clientCert: peer(ctx)?.fingerprint256,
      status: ctx.status,
      error: typeof body?.error === 'string' ? body.error : undefined,
    })
    if (ctx.path === '/.well-known/openid-configuration' && op.advertiseAliases && body) {
      ctx.body = {
        ...body,
        mtls_endpoint_aliases: {
          token_endpoint: `${aliasOrigin}/token`,
          pushed_authorization_request_endpoint: `${aliasOrigin}/request`,
          userinfo_endpoint: `${aliasOrigin}/me`,
        },
      }
    }
  })
  const handler = provider.callback()
  main.on('request', handler)
  alias.on('request', handler)
  return op
}
