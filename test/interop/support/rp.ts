/**
 * A relying party for the interop tests: the example app (createApp() of example-app/app.js, the
 * code a newcomer runs) at http://localhost:PORT, registered as a client at Glewlwyd (which is at
 * http://127.0.0.1:PORT2, another site, as in production). It records the ID token claims of each
 * login, and serves test-only routes beside the app (a back-channel logout receiver, ...).
 */

import http from 'node:http'
import express, { type Router } from 'express'
import type { AuthOptions } from 'express-par'
import { createApp } from '../../../example-app/app.js'
import type { GlewlwydClient, GlewlwydOP } from './glewlwyd-op.js'

export interface RP {
  readonly baseURL: string
  readonly clientID: string
  /** The ID token claims of every completed login, in order (seen by afterCallback). */
  readonly idTokenClaims: Array<Record<string, unknown>>
  close(): Promise<void>
}

type ClientProperties = Omit<GlewlwydClient, 'client_id' | 'redirect_uri'>

export interface RPOptions {
  /** Letters and digits: see the README's compatibility notes on client_secret_basic. */
  clientID: string
  /** express-par options beyond issuerBaseURL, baseURL, clientID. */
  auth: Partial<AuthOptions>
  /** Glewlwyd client properties beyond the redirect URIs (a function when they name the app's URL). */
  client: ClientProperties | ((baseURL: string) => ClientProperties)
  /** Test-only routes, served before the app; `baseURL` is known when this runs. */
  routes?: (router: Router, baseURL: string) => void
  /** The example app's `resourceURL`: what `/api/resource` calls with the access token (`req.oidc.fetch()`). */
  resourceURL?: string
}

export async function startRP(op: GlewlwydOP, { clientID, auth, client, routes, resourceURL }: RPOptions): Promise<RP> {
  const server = http.createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, 'localhost', () => resolve())
  })
  const baseURL = `http://localhost:${(server.address() as import('node:net').AddressInfo).port}`
  const close = () => {
    server.closeAllConnections()
    return new Promise<void>((resolve) => server.close(() => resolve()))
  }
  try {
    const properties = typeof client === 'function' ? client(baseURL) : client
    await op.addClient({ client_id: clientID, redirect_uri: [`${baseURL}/callback`], post_logout_redirect_uris: [`${baseURL}/`], ...properties })
  } catch (err) {
    await close()
    throw err
  }

  const idTokenClaims: Array<Record<string, unknown>> = []
  const outer = express()
  const testRoutes = express.Router()
  routes?.(testRoutes, baseURL)
  outer.use(testRoutes)
  outer.use(
    createApp({
      auth: {
        issuerBaseURL: op.issuer,
        baseURL,
        clientID,
        allowInsecureRequests: true,
        authorizationParams: { scope: 'openid' },
        afterCallback: (_req, _res, session) => {
          idTokenClaims.push({ ...session.claims })
          return session
        },
        ...auth,
      } as AuthOptions,
      resourceURL,
    }),
  )
  server.on('request', outer)
  return { baseURL, clientID, idTokenClaims, close }
}
