import type { Config } from './config/options.js'
import type { OpConfiguration } from './op/discovery.js'

/** What the route handlers share for one `auth()` instance: its config and its OP. */
export interface Runtime {
  readonly config: Config
  /** Resolves the OP configuration, discovering it on first use (failures are not cached). */
  readonly op: () => Promise<OpConfiguration>
}
