import type { Config } from './config/options.js'
import type { OpConfiguration } from './op/discovery.js'
import type { CoordinationClient } from './session/coordination.js'

/** What the route handlers share for one `auth()` instance. */
export interface Runtime {
  readonly config: Config
  /** Resolves the OP configuration, discovering it on first use (failures are not cached). */
  readonly op: () => Promise<OpConfiguration>
  /** The coordination store, keyed under this instance's name. */
  readonly coordination: CoordinationClient
  /** The OP's issuer identifier as its metadata states it once discovered, else the configured one. */
  readonly issuer: () => string
}
