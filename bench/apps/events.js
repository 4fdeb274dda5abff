// The `express-par-events` configuration: one subscriber on every express-par diagnostics channel
// (lib/events.ts), doing trivial work, to show what a subscriber costs against none.
import { subscribe } from 'node:diagnostics_channel'

export const CHANNELS = ['login', 'callback', 'logout', 'refresh', 'backchannel-logout'].map((name) => `express-par:${name}`)

export function subscribeAll() {
  const seen = { count: 0, outcomes: 0 }
  for (const name of CHANNELS) {
    subscribe(name, (event) => {
      seen.count++
      if (event.outcome === 'success') seen.outcomes++
    })
  }
  return seen
}
