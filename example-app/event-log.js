// The example app's audit log: every express-par event (node:diagnostics_channel) as one JSON
// line on stdout, as a log shipper expects. express-par publishes no token, code, verifier, nonce,
// secret, cookie or session id (only a digest of the session id), so the line needs no filtering.
import { subscribe } from 'node:diagnostics_channel'

export const EVENTS = ['login', 'callback', 'logout', 'refresh', 'backchannel-logout']

/** Writes each event as `{"at": ..., "event": "callback", "outcome": ..., ...}` to `write`. */
export function logEvents(write = (line) => process.stdout.write(`${line}\n`)) {
  for (const event of EVENTS) {
    subscribe(`express-par:${event}`, (message) => write(JSON.stringify({ at: new Date().toISOString(), event, ...message })))
  }
}
