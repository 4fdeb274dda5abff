/**
 * Glewlwyd's admin REST API (docs/API.md of Glewlwyd): a session cookie from `POST /api/auth/` as
 * the packaged admin user, then JSON calls. Every call checks its status, so a setup step that
 * Glewlwyd refuses fails with Glewlwyd's own answer in the message.
 */

/** The admin account the packaged SQLite schema creates. */
const ADMIN = { username: 'admin', password: 'password' }

export class GlewlwydAdmin {
  private constructor(
    readonly origin: string,
    private readonly cookie: string,
  ) {}

  /** Logs in as the packaged admin. */
  static async login(origin: string): Promise<GlewlwydAdmin> {
    const response = await fetch(`${origin}/api/auth/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    })
    const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.startsWith('GLEWLWYD2_SESSION_ID='))
    if (!response.ok || !cookie) throw new Error(`Glewlwyd's admin login failed: HTTP ${response.status} ${await response.text()}`)
    return new GlewlwydAdmin(origin, cookie)
  }

  /** One admin API call under `/api`; resolves to the JSON answer (or undefined when empty). */
  async call<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', apiPath: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.origin}/api${apiPath}`, {
      method,
      headers: { cookie: this.cookie, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (!response.ok) throw new Error(`Glewlwyd admin API ${method} /api${apiPath}: HTTP ${response.status} ${text}`)
    return (text ? JSON.parse(text) : undefined) as T
  }

  /**
   * Lets the client database store `property` (Glewlwyd only stores the properties its client
   * module's `data-format` lists, and only lists as arrays those marked `multiple`).
   */
  async allowClientProperty(property: string, options: { multiple: boolean }): Promise<void> {
    const module = await this.call<{ parameters: { 'data-format': Record<string, unknown> } }>('GET', '/mod/client/database')
    module.parameters['data-format'][property] = { multiple: options.multiple, read: true, write: true }
    await this.call('PUT', '/mod/client/database', module)
    await this.call('PUT', '/mod/client/database/reset') // the module reads data-format when it starts
  }
}
