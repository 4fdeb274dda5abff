/**
 * The request's auth() scope lives on `req.session` (request-scope.ts, session/carry-over.ts), so
 * it must follow the session when express-session replaces it mid-request: `regenerate()` (what
 * passport and many apps do at login), `reload()`, and `destroy()`. After each, `req.oidc` and
 * `res.oidc` still speak for the instance, `requiresAuth()` still finds it, and the scope never
 * reaches the store.
 */

import type { NextFunction, Request, Response } from 'express'
import express from 'express'
import session, { MemoryStore } from 'express-session'
import request from 'supertest'
import { auth, requiresAuth } from 'express-par'
import { EXPRESS_VERSIONS } from '../support/express-versions.js'
import { sessionId, storedSessionById } from '../support/session-store.js'
import { startStack, type Stack } from '../support/stack.js'

type Step = 'regenerate' | 'reload' | 'destroy'

/** Calls `req.session[step]`, then reports what `req.oidc`, `res.oidc` and a later `requiresAuth()` see. */
function afterStep(step: Step) {
  return (req: Request, res: Response, next: NextFunction) => {
    req.session[step]((err?: unknown) => {
      if (err) return next(err)
      res.locals.report = {
        oidc: req.oidc !== undefined,
        authenticated: req.oidc?.isAuthenticated() ?? null,
        sub: req.oidc?.user?.sub ?? null,
        canLogIn: typeof res.oidc?.login === 'function',
      }
      next()
    })
  }
}

const report = (_req: Request, res: Response) => res.json(res.locals.report)

describe.each(EXPRESS_VERSIONS)('the request scope across session replacement (%s)', (_name, expressModule) => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack({
      express: expressModule,
      routes: (app) => {
        for (const step of ['regenerate', 'reload', 'destroy'] as const) {
          app.get(`/${step}`, afterStep(step), report)
          // requiresAuth() after the step: after reload the login is there; after regenerate or destroy it is not.
          app.get(`/${step}-then-required`, afterStep(step), requiresAuth(), report)
        }
      },
    })
  })
  afterAll(() => stack.close())

  test('after reload(), the login is still the one in scope', async () => {
    const browser = stack.browser()
    await stack.login(browser)
    const page = await browser.request(`${stack.baseURL}/reload`, { headers: { accept: 'application/json' } })
    expect(JSON.parse(page.body)).toEqual({ oidc: true, authenticated: true, sub: 'alice', canLogIn: true })
    expect((await browser.request(`${stack.baseURL}/reload-then-required`, { headers: { accept: 'application/json' } })).status).toBe(200)
  })

  test.each(['regenerate', 'destroy'] as const)('after %s(), req.oidc and res.oidc are there and say nobody is logged in', async (step) => {
    const browser = stack.browser()
    await stack.login(browser)
    const page = await browser.request(`${stack.baseURL}/${step}`, { headers: { accept: 'application/json' } })
    expect(page.status).toBe(200)
    expect(JSON.parse(page.body)).toEqual({ oidc: true, authenticated: false, sub: null, canLogIn: true })
  })

  test.each(['regenerate', 'destroy'] as const)('after %s(), requiresAuth() refuses with 401, not a configuration error', async (step) => {
    const browser = stack.browser()
    await stack.login(browser)
    const errors = stack.errors.length
    const page = await browser.request(`${stack.baseURL}/${step}-then-required`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } })
    expect(page.status).toBe(401)
    expect(stack.errors.slice(errors).map((err) => err.code)).toEqual(['ERR_UNAUTHENTICATED'])
  })

  test('the scope is never written to the store, and is not in a copy of the session', async () => {
    const browser = stack.browser()
    await stack.login(browser)
    const id = sessionId(browser, stack.baseURL)!
    const record = storedSessionById(stack.store, id) as unknown as Record<string, unknown>
    expect(JSON.stringify(record)).not.toMatch(/"(runtime|outer|next)"/)
    expect(Object.keys(record).sort()).toEqual(['cookie', 'expressPar'])
  })
})

test('a session store whose methods cannot be wrapped is a configuration error naming the fix', async () => {
  const store = new MemoryStore()
  const app = express()
  app.use(session({ secret: 's', resave: false, saveUninitialized: false, store }))
  Object.freeze(store)
  app.use(auth({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'c', clientSecret: 's' }))
  app.get('/', (req, res) => res.json({ authenticated: req.oidc.isAuthenticated() }))
  app.use((err: { status?: number; code?: string; message: string }, _req: Request, res: Response, _next: NextFunction) => res.status(err.status ?? 500).json({ code: err.code, message: err.message }))
  const page = await request(app).get('/')
  expect(page.status).toBe(500)
  expect(page.body.code).toBe('ERR_CONFIG_INVALID')
  expect(page.body.message).toMatch(/frozen/)
})

test('a login started after destroy() is ERR_SESSION_MISSING, before any OP request', async () => {
  const stack = await startStack({
    routes: (app) => {
      app.get('/destroy-then-login', (req, res, next) => req.session.destroy(() => void res.oidc.login({}, next)))
    },
  })
  try {
    const browser = stack.browser()
    const requests = stack.opRequests.length
    const page = await browser.request(`${stack.baseURL}/destroy-then-login`)
    expect(page.status).toBe(500)
    expect(stack.errors.map((err) => err.code)).toEqual(['ERR_SESSION_MISSING'])
    expect(stack.opRequests.slice(requests).filter((path) => !path.includes('.well-known'))).toEqual([])
  } finally {
    await stack.close()
  }
})
