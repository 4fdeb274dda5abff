/**
 * lib/op/dpop-keys.ts: a login's DPoP key pair comes back from its stored record, remembered in
 * this process when it made or imported it, imported from the record's JWKs when it did not (the
 * callback landed on another instance, or the process restarted).
 */

import { exportJWK, generateKeyPair } from 'jose'
import { keyPairOf, newDPoPKey } from '../../lib/op/dpop-keys.js'
import type { DPoPKeyRecord } from '../../lib/op/dpop.js'

/** The record as a session store gives it back: a new object, parsed from JSON. */
const fromStore = (record: DPoPKeyRecord): DPoPKeyRecord => JSON.parse(JSON.stringify(record)) as DPoPKeyRecord

async function signsAs(keyPair: CryptoKeyPair, publicJwk: DPoPKeyRecord['publicJwk']): Promise<boolean> {
  const data = new TextEncoder().encode('proof')
  const signature = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey, data)
  const verifier = await crypto.subtle.importKey('jwk', publicJwk as JsonWebKey, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, verifier, signature, data)
}

test('a stored record of a key this process made gets the very key pair back, not an import', async () => {
  const record = await newDPoPKey({ alg: 'ES256' })
  const first = await keyPairOf(fromStore(record))
  expect(await keyPairOf(fromStore(record))).toBe(first)
  expect(first.privateKey.extractable).toBe(true) // the pair made at login (exported for the session), not an import
  expect(await signsAs(first, record.publicJwk)).toBe(true)
})

test('a record made by another process is imported from its JWKs, and signs as its public key says', async () => {
  const made = await generateKeyPair('ES256', { extractable: true })
  const record: DPoPKeyRecord = { alg: 'ES256', privateJwk: await exportJWK(made.privateKey), publicJwk: await exportJWK(made.publicKey) }
  const imported = await keyPairOf(fromStore(record))
  expect(imported.privateKey.extractable).toBe(false) // imported here, never exported again
  expect(await signsAs(imported, record.publicJwk)).toBe(true)
  expect(await keyPairOf(fromStore(record))).toBe(imported)
})

test('two logins never share a key pair', async () => {
  const [a, b] = await Promise.all([newDPoPKey({ alg: 'ES256' }), newDPoPKey({ alg: 'ES256' })])
  expect(a.privateJwk.d).not.toBe(b.privateJwk.d)
  expect(await keyPairOf(fromStore(a))).not.toBe(await keyPairOf(fromStore(b)))
})
