/**
 * The audit trail: every login, callback, logout, refresh and back-channel logout publishes one
 * message on `node:diagnostics_channel` (`express-par:login`, ...) with its outcome. A message is
 * a plain object: `outcome` (`'success'` | `'failure'`), `code` on failure, `issuer` (as the OP's
 * metadata states it), `clientID`, `name`, `sub` where known, `durationMs`, and what an auditor
 * needs (the OP's `error` on a refusal, `acr`/`amr` of a login, a digest of the session id so the
 * events of one session can be joined). Never a token, code, verifier, nonce, secret, cookie or
 * session id in clear.
 *
 * With no subscriber, nothing is published, allocated or timed: one `hasSubscribers` read.
 *
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel'
 * subscribe('express-par:callback', (event) => logger.info(event))
 * ```
 */

import { channel, type Channel } from 'node:diagnostics_channel'
import type { Request } from 'express'
import { ExpressParError } from './errors.js'
import type { Runtime } from './runtime.js'
import { digest } from './session/digest.js'

export type EventName = 'login' | 'callback' | 'logout' | 'refresh' | 'backchannel-logout'

/** What a subscriber receives. */
export interface ExpressParEvent {
  outcome: 'success' | 'failure'
  /** The error's code, on failure. */
  code?: string
  /** The OP's issuer identifier (from its metadata once discovered, else the configured one). */
  issuer: string
  clientID: string
  /** The `auth({ name })` instance. */
  name: string
  /** The user, where known. */
  sub?: string
  durationMs: number
  /** The OP's own `error` (e.g. `access_denied`), when it sent one that is OAuth-shaped. */
  error?: string
  /** The session the event concerns, as a digest (the same on every instance). */
  session?: string
  /** How the user authenticated (a successful callback), as the ID token says. */
  acr?: string
  amr?: string[]
}

/** What a route tells the event about its success. */
export type EventDetails = Pick<ExpressParEvent, 'sub' | 'acr' | 'amr'>

const channels: Record<EventName, Channel> = {
  login: channel('express-par:login'),
  callback: channel('express-par:callback'),
  logout: channel('express-par:logout'),
  refresh: channel('express-par:refresh'),
  'backchannel-logout': channel('express-par:backchannel-logout'),
}

/** The digest subscribers see instead of the session id. */
export function sessionReference(sessionId: string | undefined): string | undefined {
  return sessionId === undefined ? undefined : digest(`express-par:session:${sessionId}`).slice(0, 22)
}

/** Only OAuth-shaped error codes (RFC 6749 §4.1.2.1) reach a log: the callback's `error` is attacker-chosen. */
function oauthError(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z0-9_]{1,64}$/i.test(value) ? value : undefined
}

function publish(name: EventName, runtime: Runtime, req: Request | undefined, started: number, result: { details?: EventDetails; err?: unknown }): void {
  const { config } = runtime
  const event: ExpressParEvent = {
    outcome: result.err === undefined ? 'success' : 'failure',
    issuer: runtime.issuer(),
    clientID: config.clientID,
    name: config.name,
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
  }
  if (result.err !== undefined) {
    event.code = result.err instanceof ExpressParError ? result.err.code : 'ERR_UNEXPECTED'
    const error = oauthError((result.err as { error?: unknown } | null)?.error)
    if (error !== undefined) event.error = error
  }
  const details = result.details
  if (details?.sub !== undefined) event.sub = details.sub
  if (details?.acr !== undefined) event.acr = details.acr
  if (details?.amr !== undefined) event.amr = details.amr
  const session = sessionReference(req?.sessionID)
  if (session !== undefined) event.session = session
  channels[name].publish(event)
}

/** When an event's clock starts: `undefined` (nothing timed) while nobody subscribes to `name`. */
export function eventStart(name: EventName): number | undefined {
  return channels[name].hasSubscribers ? performance.now() : undefined
}

/** Publishes an outcome timed from {@link eventStart}; nothing when that found no subscriber. */
export function publishEvent(name: EventName, runtime: Runtime, req: Request | undefined, started: number | undefined, result: { err?: unknown; details?: EventDetails }): void {
  if (started !== undefined) publish(name, runtime, req, started, result)
}

export interface Describe<T> {
  /** Details known before the step runs (e.g. who is logging out), for success and failure alike. */
  before?: () => EventDetails
  /** Details of a success, from the step's result (e.g. who logged in). */
  after?: (result: T) => EventDetails
}

/**
 * Runs `step` and publishes its outcome on `express-par:<name>`. Without a subscriber it only runs
 * `step`: `describe` is not called, nothing is timed.
 */
export async function observed<T>(name: EventName, runtime: Runtime, req: Request | undefined, step: () => Promise<T>, describe: Describe<T> = {}): Promise<T> {
  if (!channels[name].hasSubscribers) return step()
  const started = performance.now()
  const known = describe.before?.()
  let result: T
  try {
    result = await step()
  } catch (err) {
    publish(name, runtime, req, started, { err, details: known })
    throw err
  }
  publish(name, runtime, req, started, { details: { ...known, ...describe.after?.(result) } })
  return result
}

/** The details of a login's claims: who, and how they authenticated. */
export function claimDetails(claims: Record<string, unknown> | undefined): EventDetails {
  const details: EventDetails = {}
  if (typeof claims?.sub === 'string') details.sub = claims.sub
  if (typeof claims?.acr === 'string') details.acr = claims.acr
  if (Array.isArray(claims?.amr) && claims.amr.every((m) => typeof m === 'string')) details.amr = claims.amr as string[]
  return details
}
