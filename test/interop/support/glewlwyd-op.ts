/**
 * Glewlwyd set up as the OpenID Provider of the interop tests, through its admin API only: an OIDC
 * plugin instance that requires PAR and PKCE S256, signs with a fresh RS256 key and allows signed
 * request objects; one user; one client per test scenario.
 */

import { exportJWK, generateKeyPair } from 'jose'
import type { GlewlwydAdmin } from './glewlwyd-admin.js'
import type { Glewlwyd } from './glewlwyd.js'

/** The name of the OIDC plugin instance; the issuer is `<origin>/api/<name>`. */
export const PLUGIN_NAME = 'oidc'

/** The Rich Authorization Request type the plugin knows (RFC 9396 §2). */
export const RAR_TYPE = 'payment_initiation'

export const USER = { username: 'alice', password: 'correct-horse-battery', name: 'Alice Example', email: 'alice@example.com' }

/** Client properties as Glewlwyd's client database stores them (its names, not RFC 7591's). */
export interface GlewlwydClient {
  client_id: string
  client_secret?: string
  redirect_uri: string[]
  token_endpoint_auth_method: string[]
  post_logout_redirect_uris?: string[]
  /** A public JWK Set (the plugin's `client-jwks-parameter`). */
  jwks?: { keys: object[] }
  /** The plugin's `client-jwks_uri-parameter`. */
  jwks_uri?: string
  backchannel_logout_uri?: string
  /** The RAR types the client may request (the plugin's `rar-types-client-property`). */
  authorization_details_types?: string[]
  /** 'true' puts `sid` in the logout token. */
  backchannel_logout_session_required?: string
  /** 'true': every PAR and token request of the client must carry a DPoP proof (the plugin's `oauth-dpop-dpop_bound_access_tokens-property`). */
  dpop_bound_access_tokens?: string
}

export interface GlewlwydOP {
  readonly issuer: string
  readonly admin: GlewlwydAdmin
  /** Registers a confidential authorization-code client. */
  addClient(client: GlewlwydClient): Promise<void>
  /**
   * Adds another OIDC plugin instance, `<origin>/api/<name>`, configured as the main one but for
   * `parameters` (for settings Glewlwyd only has per instance); resolves to its issuer. Clients and
   * users are shared.
   */
  addInstance(name: string, parameters: Record<string, unknown>): Promise<string>
}

/**
 * Configures `glewlwyd` as an OP. `plugin` is merged over the OIDC plugin parameters (names as in
 * Glewlwyd's protocol_oidc.c).
 */
export async function setUpOP(glewlwyd: Glewlwyd, plugin: Record<string, unknown> = {}): Promise<GlewlwydOP> {
  const { admin } = glewlwyd
  const issuer = `${glewlwyd.origin}/api/${PLUGIN_NAME}`
  const { privateKey } = await generateKeyPair('RS256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'glewlwyd-1', alg: 'RS256', use: 'sig' }

  // end_session looks up `post_logout_redirect_uris` (an array), which the packaged client module does not store.
  await admin.allowClientProperty('post_logout_redirect_uris', { multiple: true })
  await admin.allowClientProperty('dpop_bound_access_tokens', { multiple: false })
  // The packaged `openid` scope needs no password; a login that asks for none would prove nothing.
  await admin.call('PUT', '/scope/openid', { display_name: 'Open ID', description: 'Open ID Connect scope', password_required: true, password_max_age: 0, scheme: {} })
  await admin.call('POST', '/mod/plugin/', {
    module: 'oidc',
    name: PLUGIN_NAME,
    display_name: 'OpenID Connect',
    parameters: {
      iss: issuer,
      'jwks-private': JSON.stringify({ keys: [signingKey] }),
      'default-kid': signingKey.kid,
      'access-token-duration': 600,
      'refresh-token-duration': 3600,
      'code-duration': 60,
      'allow-non-oidc': false,
      'auth-type-code-enabled': true,
      'auth-type-code-revoke-replayed': true,
      'auth-type-refresh-enabled': true,
      'oauth-par-allowed': true,
      'oauth-par-required': true,
      'oauth-par-request_uri-prefix': 'urn:ietf:params:oauth:request_uri:',
      'oauth-par-duration': 90,
      'pkce-allowed': true,
      'pkce-required': true,
      'pkce-method-plain-allowed': false,
      'request-parameter-allow': true,
      'client-jwks-parameter': 'jwks',
      'client-jwks_uri-parameter': 'jwks_uri',
      'oauth-as-iss-id': true,
      'session-management-allowed': true,
      'session-cookie-name': 'GLEWLWYD_OIDC_SID',
      'session-cookie-expiration': 3600,
      'back-channel-logout-allowed': true,
      // Without it, the end-session prompt's session lookup answers 400 and the prompt cannot log out.
      'front-channel-logout-allowed': true,
      // RFC 9396 (Glewlwyd implements draft 11): one authorization_details type, for clients that list it.
      'oauth-rar-allowed': true,
      'rar-types-client-property': 'authorization_details_types',
      'rar-allow-auth-unsigned': true,
      'rar-allow-auth-unencrypted': true,
      'rar-types': {
        [RAR_TYPE]: { scopes: ['openid'], locations: ['https://bank.example/payments'], actions: ['initiate', 'status'], datatypes: ['sepa'], enriched: [], description: 'Initiate a payment' },
      },
      // DPoP (Glewlwyd implements draft 07): proofs checked at PAR, token and userinfo; no server nonces
      // (with them, PAR cannot work: see the DPoP tests).
      'oauth-dpop-allowed': true,
      'oauth-dpop-iat-duration': 60,
      'oauth-dpop-dpop_bound_access_tokens-property': 'dpop_bound_access_tokens',
      'name-claim': 'mandatory',
      'email-claim': 'mandatory',
      ...plugin,
    },
  })
  await admin.call('POST', '/user/', { username: USER.username, password: USER.password, name: USER.name, email: USER.email, enabled: true, scope: ['openid'] })

  return {
    issuer,
    admin,
    async addClient(client) {
      await admin.call('POST', '/client/', {
        name: client.client_id,
        confidential: true,
        enabled: true,
        authorization_type: ['code', 'refresh_token'],
        scope: ['openid'],
        ...client,
      })
    },
    async addInstance(name, parameters) {
      const main = await admin.call<{ module: string; display_name: string; parameters: Record<string, unknown> }>('GET', `/mod/plugin/${PLUGIN_NAME}`)
      const instanceIssuer = `${glewlwyd.origin}/api/${name}`
      await admin.call('POST', '/mod/plugin/', { module: main.module, name, display_name: `${main.display_name} (${name})`, parameters: { ...main.parameters, iss: instanceIssuer, ...parameters } })
      return instanceIssuer
    },
  }
}
