// A Redis session store (connect-redis + node-redis), so several instances of the app share their
// sessions: a login may start on one instance and finish on another. `npm start` uses it when
// REDIS_URL is set; the scale tests use it with a real redis-server.
import { RedisStore } from 'connect-redis'
import { createClient } from 'redis'

/**
 * Connects to Redis and returns an express-session store backed by it.
 *
 * @param {string} url e.g. redis://127.0.0.1:6379
 * @param {object} [options]
 * @param {(err: Error) => void} [options.onError] connection errors (node-redis reconnects by itself)
 * @param {string} [options.prefix] key prefix of the sessions in Redis
 * @returns {Promise<{ store: import('express-session').Store, client: import('redis').RedisClientType, close: () => Promise<void> }>}
 */
export async function connectRedisStore(url, { onError = (err) => console.error(`Redis: ${err.message}`), prefix = 'express-par:sess:' } = {}) {
  const client = createClient({
    url,
    // While Redis is unreachable, fail requests at once (express-session answers 500) instead of
    // queueing them until it is back.
    disableOfflineQueue: true,
  })
  // node-redis emits 'error' whenever the connection drops; an 'error' event without a listener
  // would crash the process.
  client.on('error', onError)
  await client.connect()
  return {
    store: new RedisStore({ client, prefix }),
    client,
    close: async () => {
      if (client.isReady) await client.quit()
      else if (client.isOpen) await client.disconnect()
    },
  }
}
