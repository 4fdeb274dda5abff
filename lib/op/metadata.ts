import type * as client from 'openid-client'

const metadataCache = new WeakMap<client.Configuration, Readonly<client.ServerMetadata>>()

/**
 * The OP's metadata, read-only. openid-client's `serverMetadata()` hands out a fresh deep copy
 * (a `structuredClone` of some 3 KB) at every call, and a login read it several times; this is
 * one copy per discovered configuration.
 */
export function opMetadata(op: client.Configuration): Readonly<client.ServerMetadata> {
  let metadata = metadataCache.get(op)
  if (metadata === undefined) metadataCache.set(op, (metadata = Object.freeze(op.serverMetadata())))
  return metadata
}
