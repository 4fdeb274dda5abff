import type { Config } from './config.js'
import type { OpConfiguration } from './client.js'

/** What the route handlers share for one `auth()` instance: its config and its OP. */
export interface Runtime {
  readonly config: Config
  /** Resolves the OP configuration, discovering it on first use (failures are not cached). */
  readonly op: () => Promise<OpConfiguration>
}
