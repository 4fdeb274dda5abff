// The example app: an ordinary Express app that logs users in with express-par.
import express from 'express'
import session from 'express-session'
import { attemptSilentLogin, auth, requiresAuth } from 'express-par'

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
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
nav{margin:1rem 0}form.inline{display:inline}form.inline button{font:inherit;color:#06c;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer}</style></head>
<body><h1>${escapeHTML(title)}</h1>${body}</body></html>`

// Logging out changes state, so it is a POST from the app's own page: express-par refuses a logout
// that another site asks for (ERR_LOGOUT_CROSS_SITE), and a POST form works in every browser.
const logoutButton = '<form class="inline" method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>'

/**
 * Builds the example app.
 *
 * @param {object} options
 * @param {import('express-par').AuthOptions} options.auth options for express-par's auth()
 * @param {string} [options.sessionSecret]
 * @param {import('express-session').Store} [options.sessionStore] default: express-session's MemoryStore
 * @param {string} [options.sessionCookie] the session cookie's name (two apps on one host need two names); default connect.sid
 * @param {string} [options.title] the app's name on its pages
 * @param {boolean} [options.silentLogin] try a prompt=none login once per session on page loads (attemptSilentLogin())
 * @param {string} [options.endOPSession] URL of the OP's page that ends its session ("log out everywhere")
 * @param {{ name: string, url: string }} [options.otherApp] another app at the same OP, linked from the profile
 * @param {typeof express} [options.express] the express module to use (tests pass Express 4 too)
 */
export function createApp({
  auth: authOptions,
  sessionSecret = 'example-app-session-secret',
  sessionStore,
  sessionCookie,
  title = 'express-par example',
  silentLogin = false,
  endOPSession,
  otherApp,
  express: expressModule = express,
}) {
  const app = expressModule()
  const secure = new URL(authOptions.baseURL).protocol === 'https:'
  if (secure) app.set('trust proxy', 1)
  app.use(
    session({
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      store: sessionStore,
      ...(sessionCookie && { name: sessionCookie }),
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
  if (silentLogin) app.use(attemptSilentLogin())

  app.get('/', (req, res) => {
    const body = req.oidc.isAuthenticated()
      ? `<p>Logged in as <strong>${escapeHTML(req.oidc.user.name ?? req.oidc.user.sub)}</strong>.</p>
         <nav><a href="/profile">Profile</a> · ${logoutButton}</nav>`
      : `<p>You are not logged in.</p><p><a id="login" href="/login?returnTo=%2Fprofile">Log in</a></p>`
    res.send(page(title, body))
  })

  app.get('/profile', requiresAuth(), (req, res) => {
    const rows = Object.entries(req.oidc.user)
      .map(([name, value]) => `<tr><th>${escapeHTML(name)}</th><td>${escapeHTML(JSON.stringify(value))}</td></tr>`)
      .join('')
    res.send(page('Profile', `<table id="claims">${rows}</table><nav><a href="/">Home</a> · ${logoutButton}</nav>${everywhere(req.oidc.idTokenClaims.sid)}`))
  })

  // The OP session this login belongs to, and how to end it there: the OP then tells every app of
  // that session over the back channel (backchannelLogout), and each logs out on its next request.
  const everywhere = (sid) => `<h2>Log out everywhere</h2>
    <p>This login belongs to the OP session <code id="sid">${escapeHTML(sid ?? '(the OP sent no sid)')}</code>.
    Every app session of it ends when the OP session ends, in every tab and on every instance of the app.</p>
    ${otherApp ? `<p>Try it: log in to <a id="other-app" href="${escapeHTML(otherApp.url)}/profile">${escapeHTML(otherApp.name)}</a> too (the OP signs you in without a password), ` : '<p>Try it: '}
    ${endOPSession ? `<a id="end-op-session" href="${escapeHTML(endOPSession)}">end the session at the OP</a>, and reload the profile pages: all are logged out.</p>` : 'end your session at the OP, and reload this page: it is logged out.</p>'}`

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
