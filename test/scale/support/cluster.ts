/**
 * A scaled-out deployment in one process: a real redis-server, the example app's local OP, two
 * instances of the example app (each its own auth(), its own Redis client, the same session
 * secret and the same Redis), and a load balancer in front that the test steers per request.
 */

import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createApp } from '../../../example-app/app.js'
import { startLocalOP } from '../../../example-app/local-op.js'
import { connectRedisStore } from '../../../example-app/redis-store.js'
import { redisCoordination } from 'express-par/redis'
import { TestBrowser, authorizeAtOP, type Page } from '../../support/browser.js'
import { INSTANCE_HEADER, startBalancer, type Balancer } from './balancer.js'
import { startRedisServer, type RedisServer } from './redis-server.js'

export type InstanceName = 'A' | 'B'

const CLIENT_ID = 'scale-client'
const CLIENT_SECRET = 'scale-client-secret-0123456789'
const SESSION_SECRET = 'scale-session-secret'
const INSTANCE_NAMES: InstanceName[] = ['A', 'B']

type RedisConnection = Awaited<ReturnType<typeof connectRedisStore>>

interface Instance {
  server: http.Server
  redis?: RedisConnection
}

export interface Cluster {
  redis: RedisServer
  op: Awaited<ReturnType<typeof startLocalOP>>
  /** The `grant_type` of every token request the OP received, in order. */
  tokenRequests: string[]
  /** While set, the OP tells `arrived` of each token request and holds it until `release` resolves. */
  tokenGate: { arrived: () => void; release: Promise<void> } | undefined
  /** The public origin: every instance's `baseURL`. */
  url: string
  /** Connection errors the instances' Redis clients reported (they reconnect by themselves). */
  redisErrors: Error[]
  /** Which instance served each request, in order. */
  served: Array<{ instance: InstanceName; path: string }>
  /** The OP's issuer (reached directly, not through the balancer). */
  issuer: string
  /** The instance the OP's back-channel logout calls go to (through the balancer). Default B. */
  backchannelTo: InstanceName
  /** The logout tokens the OP sent, in order. */
  logoutTokens: string[]
  browser(): TestBrowser
  /** One request to `pathOrURL` (a path, or a URL at the public origin), served by `instance`. */
  request(browser: TestBrowser, instance: InstanceName, pathOrURL: string, init?: { method?: string; headers?: Record<string, string>; form?: Record<string, string> }): Promise<Page>
  /** `/login` on `instance`, then the OP's login and consent as `user`: the callback URL, not opened. */
  authorize(browser: TestBrowser, instance: InstanceName, user?: string): Promise<string>
  /** The `sub` of the user logged in at `instance`, or null when it answers 401. */
  whoIsLoggedIn(browser: TestBrowser, instance: InstanceName): Promise<string | null>
  /** Rewrites the browser's session in Redis (how a test plays the clock forward). */
  editSession(browser: TestBrowser, edit: (session: any) => void): Promise<void>
  /** Resolves once every instance's Redis client is connected (again). */
  redisReady(): Promise<void>
  /** Resolves once every instance's Redis client noticed the connection is gone. */
  redisLost(): Promise<void>
  close(): Promise<void>
}

/** The stable code the example app's error page shows. */
export function errorCode(page: Page): string | undefined {
  return /<code id="error-code">([^<]*)<\/code>/.exec(page.body)?.[1]
}

/** The next `name` event; unlike events.once, an 'error' in between (a reconnect attempt) does not reject. */
function nextEvent(emitter: { once(name: string, listener: () => void): unknown }, name: string): Promise<void> {
  return new Promise((resolve) => emitter.once(name, () => resolve()))
}

async function listen(server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
}

export interface ClusterOptions {
  /** Merged over every instance's auth() options. */
  auth?: Record<string, unknown>
  /** Merged over the OP's client registration. */
  client?: Record<string, unknown>
  /** oidc-provider features merged over the local OP's. */
  opFeatures?: Record<string, unknown>
  /** Koa middleware run at the OP before its routes. */
  opMiddleware?: Array<(ctx: any, next: () => Promise<void>) => Promise<void>> // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const redis = await startRedisServer()
  const instances = new Map<InstanceName, Instance>()
  const redisErrors: Error[] = []
  const served: Cluster['served'] = []
  let balancer: Balancer | undefined
  let op: Awaited<ReturnType<typeof startLocalOP>> | undefined

  const close = async () => {
    for (const instance of instances.values()) {
      await closeServer(instance.server)
      await instance.redis?.close()
    }
    await balancer?.close()
    await op?.close()
    await redis.stop()
  }

  try {
    const urls: Record<string, string> = {}
    for (const name of INSTANCE_NAMES) {
      const server = http.createServer()
      instances.set(name, { server })
      urls[name] = await listen(server)
    }
    balancer = await startBalancer(urls)
    const publicURL = balancer.url
    const tokenRequests: string[] = []
    const logoutTokens: string[] = []
    const backchannel = { to: 'B' as InstanceName }
    op = await startLocalOP({
      clients: [
        {
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          redirect_uris: [`${publicURL}/callback`],
          post_logout_redirect_uris: [`${publicURL}/`],
          grant_types: ['authorization_code', 'refresh_token'],
          backchannel_logout_uri: `${publicURL}/backchannel-logout`,
          backchannel_logout_session_required: true,
          ...options.client,
        },
      ],
      features: options.opFeatures,
      configuration: {
        // Refresh tokens for every login, rotated on use: one sent twice revokes the grant.
        issueRefreshToken: () => true,
        rotateRefreshToken: true,
        // oidc-provider refuses loopback addresses (SSRF protection): its logout calls go to the
        // balancer on this machine, steered to the instance the test names.
        fetch: (url: string, options: RequestInit & { dispatcher?: unknown }) => {
          const { dispatcher: _ssrfProtection, ...rest } = options
          if (rest.body instanceof URLSearchParams) logoutTokens.push(rest.body.get('logout_token') ?? '')
          const headers = new Headers(rest.headers)
          headers.set(INSTANCE_HEADER, backchannel.to)
          return fetch(url, { ...rest, headers } as RequestInit)
        },
      },
      middleware: [
        async (ctx: { path: string; method: string; req: http.IncomingMessage }, next: () => Promise<void>) => {
          if (ctx.path === '/token' && ctx.method === 'POST') {
            const gate = cluster.tokenGate
            if (gate) {
              gate.arrived()
              await gate.release
            }
          }
          await next()
          if (ctx.path === '/token') tokenRequests.push(String((ctx as unknown as { oidc?: { params?: { grant_type?: string } } }).oidc?.params?.grant_type))
        },
        ...(options.opMiddleware ?? []),
      ],
    })
    for (const [name, instance] of instances) {
      instance.redis = await connectRedisStore(redis.url, { onError: (err) => redisErrors.push(err), prefix: 'scale:sess:' })
      const app = createApp({
        auth: {
          issuerBaseURL: op.issuer,
          baseURL: publicURL,
          clientID: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          allowInsecureRequests: true,
          backchannelLogout: true,
          // One-time rules and the login index, shared by the instances through the same Redis.
          coordination: redisCoordination(instance.redis.client),
          ...options.auth,
        },
        sessionSecret: SESSION_SECRET,
        sessionStore: instance.redis.store,
        resourceURL: `${op.issuer}/me`,
      })
      instance.server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
        served.push({ instance: name, path: new URL(req.url ?? '/', publicURL).pathname })
        app(req, res)
      })
    }

    const cluster: Cluster = {
      redis,
      op,
      tokenRequests,
      tokenGate: undefined,
      url: publicURL,
      redisErrors,
      served,
      issuer: op.issuer,
      get backchannelTo() {
        return backchannel.to
      },
      set backchannelTo(name: InstanceName) {
        backchannel.to = name
      },
      logoutTokens,
      browser: () => new TestBrowser(),
      request(browser, instance, pathOrURL, init = {}) {
        return browser.request(new URL(pathOrURL, publicURL).href, { method: init.method, form: init.form, headers: { ...init.headers, [INSTANCE_HEADER]: instance } })
      },
      async authorize(browser, instance, user = 'alice') {
        const start = await cluster.request(browser, instance, '/login')
        if (start.status !== 302) throw new Error(`/login on ${instance} answered ${start.status}: ${errorCode(start) ?? start.body.slice(0, 300)}`)
        return authorizeAtOP(browser, start.headers.get('location')!, `${publicURL}/callback`, { login: user })
      },
      async whoIsLoggedIn(browser, instance) {
        const page = await browser.request(`${publicURL}/api/me`, {
          headers: { [INSTANCE_HEADER]: instance, accept: 'application/json', 'sec-fetch-mode': 'cors' },
        })
        if (page.status === 401) return null
        if (page.status !== 200) throw new Error(`/api/me on ${instance} answered ${page.status}: ${errorCode(page) ?? page.body.slice(0, 300)}`)
        return (JSON.parse(page.body) as { sub: string }).sub
      },
      async editSession(browser, edit) {
        const signed = decodeURIComponent(browser.cookie(publicURL, 'connect.sid') ?? '')
        const key = `scale:sess:${signed.slice(2, signed.lastIndexOf('.'))}`
        const client = instances.get('A')!.redis!.client
        const raw = await client.get(key)
        if (raw === null) throw new Error(`no session ${key} in Redis`)
        const session = JSON.parse(raw)
        edit(session)
        await client.set(key, JSON.stringify(session), { KEEPTTL: true })
      },
      async redisReady() {
        await Promise.all(
          [...instances.values()].map(async ({ redis: connection }) => {
            if (connection && !connection.client.isReady) await nextEvent(connection.client, 'ready')
          }),
        )
      },
      async redisLost() {
        await Promise.all(
          [...instances.values()].map(async ({ redis: connection }) => {
            if (connection?.client.isReady) await nextEvent(connection.client, 'reconnecting')
          }),
        )
      },
      close,
    }
    return cluster
  } catch (err) {
    await close()
    throw err
  }
}
