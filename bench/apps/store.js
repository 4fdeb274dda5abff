// The session store of a benchmarked app: express-session's MemoryStore, or (BENCH_STORE=redis)
// connect-redis on the redis-server the bench started, with a key prefix per app process.
import { MemoryStore } from 'express-session'
import { connectRedisStore } from '../../example-app/redis-store.js'

/** `{ store, client }`: `client` is the node-redis client when the store is Redis. */
export async function sessionStore({ redisURL, name }) {
  if (!redisURL) return { store: new MemoryStore(), client: undefined }
  const { store, client } = await connectRedisStore(redisURL, { prefix: `bench:${name}:sess:` })
  return { store, client }
}
