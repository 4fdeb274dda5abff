/**
 * A resource server for tests: it accepts a request when its Bearer access token is one the
 * in-process oidc-provider issued and has not expired or been revoked, and answers with the
 * token's subject. Anything else is a 401 with an RFC 6750 challenge.
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ResourceServer {
  url: string
  /** The access tokens it was sent, in order. */
  tokens: string[]
  close(): Promise<void>
}

/** The part of oidc-provider this needs: its access-token lookup. */
interface TokenLookup {
  AccessToken: { find(token: string): Promise<{ accountId: string; isExpired: boolean } | undefined> }
}

export async function startResourceServer(provider: TokenLookup): Promise<ResourceServer> {
  const tokens: string[] = []
  const server = http.createServer(async (req, res) => {
    const token = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]
    if (token !== undefined) tokens.push(token)
    const found = token === undefined ? undefined : await provider.AccessToken.find(token)
    if (!found || found.isExpired) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'invalid_token' }))
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ sub: found.accountId, method: req.method }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`,
    tokens,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
