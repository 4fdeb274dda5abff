// The example app: an ordinary Express app that logs users in with express-par.
import express from 'express'
import session from 'express-session'
import { auth, requiresAuth } from 'express-par'

const escapeHTML = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

// Pages show who is logged in, so none is shown from a cache: no-store (see createApp) keeps them
// out of the HTTP cache, and the script reloads a page the back/forward cache restores (Chromium
// keeps no-store pages there while the cookies are unchanged, so "back" after a logout would show
// the claims again).
const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHTML(title)}</title>
<script>addEventListener('pageshow', (event) => { if (event.persisted) location.reload() })</script>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style></head>
<body><h1>${escapeHTML(title)}</h1>${body}</body></html>`

/**
 * Builds the example app.
 *
 * @param {object} options
 * @param {import('express-par').AuthOptions} options.auth options for express-par's auth()
 * @param {string} [options.sessionSecret]
 * @param {import('express-session').Store} [options.sessionStore] default: express-session's MemoryStore
 * @param {typeof express} [options.express] the express module to use (tests pass Express 4 too)
 */
export function createApp({ auth: authOptions, sessionSecret = 'example-app-session-secret', sessionStore, express: expressModule = express }) {
  const app = expressModule()
  const secure = new URL(authOptions.baseURL).protocol === 'https:'
  if (secure) app.set('trust proxy', 1)
  app.use(
    session({
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      store: sessionStore,
      cookie: { httpOnly: true, sameSite: 'lax', secure },
    }),
  )
  // Every page here shows who is logged in: never from the browser's HTTP cache, so that the back
  // button after a login or a logout shows the current state, and no claims outlive a logout.
  app.use((req, res, next) => {
    res.set('Cache-Control', 'no-store')
    next()
  })
  app.use(auth(authOptions))

  app.get('/', (req, res) => {
    const tokenType = req.oidc.accessToken?.token_type
    const body = req.oidc.isAuthenticated()
      ? `<p>Logged in as <strong>${escapeHTML(req.oidc.user.name ?? req.oidc.user.sub)}</strong>.</p>
         ${tokenType === 'dpop' ? '<p id="token-type">Access token: DPoP-bound (RFC 9449), to a key pair made for this login.</p>' : ''}
         <p><a href="/profile">Profile</a> · <a href="/logout">Log out</a></p>`
      : `<p>You are not logged in.</p><p><a id="login" href="/login?returnTo=%2Fprofile">Log in</a></p>`
    res.send(page('express-par example', body))
  })

  app.get('/profile', requiresAuth(), (req, res) => {
    const rows = Object.entries(req.oidc.user)
      .map(([name, value]) => `<tr><th>${escapeHTML(name)}</th><td>${escapeHTML(JSON.stringify(value))}</td></tr>`)
      .join('')
    res.send(page('Profile', `<table id="claims">${rows}</table><p><a href="/">Home</a> · <a href="/logout">Log out</a></p>`))
  })

  app.get('/api/me', requiresAuth(), (req, res) => res.json(req.oidc.user))

  // express-par never renders a page: its errors come here with a status and a stable code.
  app.use((err, req, res, _next) => {
    const status = err.status ?? 500
    if (status >= 500 && !err.code) console.error(err)
    res
      .status(status)
      .send(page('Login problem', `<p>${escapeHTML(err.message)}</p><p>Code: <code id="error-code">${escapeHTML(err.code ?? 'ERR_UNEXPECTED')}</code></p><p><a href="/">Home</a></p>`))
  })
  return app
}
