/**
 * The `auth()` instances of this process, by `name`. A callback of one instance carries the
 * other instances' logins into the new session id; their back-channel logout index must follow
 * them there (login-index.ts), and only their own instance can write it, with its own
 * coordination store. Instances register when `auth()` builds them.
 */

import type { Runtime } from '../runtime.js'

const byName = new Map<string, Set<Runtime>>()

export function registerInstance(runtime: Runtime): void {
  let named = byName.get(runtime.config.name)
  if (named === undefined) byName.set(runtime.config.name, (named = new Set()))
  named.add(runtime)
}

/** The instances named `name` at the OP `issuer` (one, unless an app is built twice in a process). */
export function instancesFor(name: string, issuer: string): Runtime[] {
  return [...(byName.get(name) ?? [])].filter((runtime) => runtime.issuer() === issuer)
}
