// The limit: express + express-session and a route that reads a stored user, nothing else. Its
// user is the record express-par stored after a real login (claims trimmed to the user's), put in
// place through a bench-only route that sits after the measured ones. `/health` is the untouched
// route, as on express-par. With `redisURL`, its sessions live in Redis (connect-redis).
import express from 'express'
import session from 'express-session'
import { errorHandler, runChild } from './child.js'
import { sessionStore } from './store.js'

await runChild(async ({ name, redisURL }) => {
  const { store } = await sessionStore({ redisURL, name })
  const app = express()
  app.use(session({ secret: 'bench-session-secret', resave: false, saveUninitialized: false, store }))
  const loggedIn = (req, res, next) => (req.session.user ? next() : res.sendStatus(401))
  app.get('/', (req, res) => res.send('home'))
  app.get('/protected', loggedIn, (req, res) => res.json(req.session.user.claims))
  app.get('/health', (req, res) => res.json({ ok: true }))
  app.post('/bench-login', express.json({ limit: '16kb' }), (req, res, next) => {
    req.session.regenerate((err) => {
      if (err) return next(err)
      req.session.user = req.body
      req.session.save((saveErr) => (saveErr ? next(saveErr) : res.sendStatus(204)))
    })
  })
  app.use(errorHandler)
  return { app, store }
})
