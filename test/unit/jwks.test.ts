import { generateKeyPairSync } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import request from 'supertest'
import { auth, type AuthOptions } from 'express-par'

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey

function app(options: Partial<AuthOptions>) {
  const app = express()
  app.use(session({ secret: 'test', resave: false, saveUninitialized: false }))
  app.use(auth({ issuerBaseURL: 'https://op.example.com', baseURL: 'https://app.example.com', clientID: 'client', ...options } as AuthOptions))
  app.get('/.well-known/jwks.json', (_req, res) => res.status(404).send('not served by express-par'))
  return app
}

describe('routes.jwks', () => {
  test('publishes the public halves of both keys, with kid, use and (when fixed) alg, and no private part', async () => {
    const res = await request(app({ clientAssertionSigningKey: ec, requestObjectSigningKey: rsa, requestObjectSigningAlg: 'PS256', routes: { jwks: '/.well-known/jwks.json' } })).get('/.well-known/jwks.json')
    expect(res.status).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/jwk-set\+json/)
    const { keys } = JSON.parse(res.text)
    expect(keys).toHaveLength(2)
    expect(keys[0]).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: expect.any(String), use: 'sig', alg: 'ES256' })
    expect(keys[1]).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: expect.any(String), use: 'sig', alg: 'PS256' })
    for (const key of keys) for (const part of ['d', 'p', 'q', 'dp', 'dq', 'qi']) expect(key).not.toHaveProperty(part)
  })

  test('one key used for both purposes is published once', async () => {
    const res = await request(app({ clientAssertionSigningKey: ec, requestObjectSigningKey: ec, routes: { jwks: '/.well-known/jwks.json' } })).get('/.well-known/jwks.json')
    expect(JSON.parse(res.text).keys).toHaveLength(1)
  })

  test('is off by default', async () => {
    const res = await request(app({ clientAssertionSigningKey: ec })).get('/.well-known/jwks.json')
    expect(res.status).toBe(404)
  })
})
