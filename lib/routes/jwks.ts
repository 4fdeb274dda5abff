/**
 * `GET routes.jwks`: the public halves of the configured signing keys as a JWK Set (RFC 7517 §5),
 * so the OP can be registered with this URL as the client's `jwks_uri`. Private parts never leave
 * the process: each entry is exported from the public key alone.
 */

import type { Request, Response } from 'express'
import type { Config } from '../config/options.js'
import type { PublicJwk, SigningKey } from '../op/keys.js'

/** The JWK Set of `config`'s signing keys, one entry per distinct key id. */
export async function publicJwks(config: Config): Promise<{ keys: PublicJwk[] }> {
  const keys = [config.clientAuth.key, config.requestObjectKey].filter((key): key is SigningKey => key !== undefined)
  const byKid = new Map<string, PublicJwk>()
  for (const key of keys) {
    const { kid, publicJwk } = await key.material()
    if (!byKid.has(kid)) byKid.set(kid, publicJwk)
  }
  return { keys: [...byKid.values()] }
}

/** `GET routes.jwks` */
export function jwksRoute(config: Config) {
  let body: Promise<string> | undefined
  return (_req: Request, res: Response, next: (err?: unknown) => void): void => {
    body ??= publicJwks(config).then((jwks) => JSON.stringify(jwks))
    body
      .then((json) => {
        res.set('Content-Type', 'application/jwk-set+json')
        res.set('Cache-Control', 'public, max-age=300')
        res.send(json)
      })
      .catch(next)
  }
}
