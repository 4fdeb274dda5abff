import type { MemoryStore, SessionData } from 'express-session'
import type { TestBrowser } from './browser.js'

/** The session id behind the browser's session cookie (`connect.sid` unless named otherwise) for `baseURL`. */
export function sessionId(browser: TestBrowser, baseURL: string, cookieName = 'connect.sid'): string | undefined {
  const cookie = browser.cookie(baseURL, cookieName)
  if (!cookie) return undefined
  const signed = decodeURIComponent(cookie) // s:<id>.<signature>
  return signed.slice(2, signed.lastIndexOf('.'))
}

type Sessions = Record<string, string>
const sessions = (store: MemoryStore) => (store as unknown as { sessions: Sessions }).sessions

/** The stored session record of the browser, as the store holds it. */
export function storedSession(store: MemoryStore, browser: TestBrowser, baseURL: string): SessionData | undefined {
  const id = sessionId(browser, baseURL)
  const raw = id === undefined ? undefined : sessions(store)[id]
  return raw === undefined ? undefined : (JSON.parse(raw) as SessionData)
}

/** The stored session record under `id`: what a request still holding that id would find, after the browser dropped its cookie. */
export function storedSessionById(store: MemoryStore, id: string): SessionData | undefined {
  const raw = sessions(store)[id]
  return raw === undefined ? undefined : (JSON.parse(raw) as SessionData)
}

/** Rewrites the browser's stored session: how a test plays a tampered or stale server-side state. */
export function editStoredSession(store: MemoryStore, browser: TestBrowser, baseURL: string, edit: (session: SessionData) => void): void {
  const id = sessionId(browser, baseURL)!
  const session = JSON.parse(sessions(store)[id]!) as SessionData
  edit(session)
  sessions(store)[id] = JSON.stringify(session)
}

/** Number of sessions in the store. */
export const sessionCount = (store: MemoryStore): number => Object.keys(sessions(store)).length

/** The instance's logged-in user record (what afterCallback returned) in a stored session. */
export function storedAuth(session: SessionData | undefined, name = 'default') {
  return session?.expressPar?.[name]?.login?.auth
}

/** The instance's pending logins in a stored session. */
export function storedPending(session: SessionData | undefined, name = 'default') {
  return session?.expressPar?.[name]?.pending
}
