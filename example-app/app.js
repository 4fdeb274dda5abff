// The example app: an ordinary Express app that logs users in with express-par.
import { createHash, randomBytes } from 'node:crypto'
import express from 'express'
import session from 'express-session'
import helmet from 'helmet'
import { attemptSilentLogin, auth, requiresAuth } from 'express-par'

const escapeHTML = (value) =>
  String(value).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c])

// Pages show who is logged in, so none is shown from a cache: no-store (see createApp) keeps them
// out of the HTTP cache, and the script reloads a page the back/forward cache restores (Chromium
// keeps no-store pages there while the cookies are unchanged, so "back" after a logout would show
// the claims again).
const RELOAD_ON_RESTORE = "addEventListener('pageshow', (event) => { if (event.persisted) location.reload() })"
// The Content-Security-Policy allows this one inline script by its hash, and no other.
const RELOAD_ON_RESTORE_HASH = `'sha256-${createHash('sha256').update(RELOAD_ON_RESTORE).digest('base64')}'`
const page = (title, body) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHTML(title)}</title>
<script>${RELOAD_ON_RESTORE}</script>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
nav{margin:1rem 0}form.inline{display:inline}form.inline button{font:inherit;color:#06c;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer}</style></head>
<body><h1>${escapeHTML(title)}</h1>${body}</body></html>`

/** A claim's value as a person reads it: `alice`, not `"alice"`; lists and objects spelled out. */
const claimText = (value) => {
  if (Array.isArray(value)) return value.map(claimText).join(', ')
  if (value !== null && typeof value === 'object') return Object.entries(value).map(([name, v]) => `${name}: ${claimText(v)}`).join('; ')
  return String(value)
}

/** The "Pay" offer of the home page (payment-consent mode): amount and payee, and the link that asks the OP for consent. */
const payButton = (payment) => `<h2>Payment consent</h2>
  <p>Pay <strong id="payment-amount">${escapeHTML(payment.instructedAmount.amount)} ${escapeHTML(payment.instructedAmount.currency)}</strong> to ${escapeHTML(payment.creditorName)}:
  the OP asks you to consent to this payment (RFC 9396 <code>authorization_details</code>), and the app receives what you granted.</p>
  <p><a id="pay" href="/pay">Pay with a consent at the OP</a></p>`

/** The authorization details the token response granted (RFC 9396 §7), one table row per detail. */
const grantedDetails = (details) => {
  if (!details) return ''
  const rows = details.map(({ type, ...fields }) => `<tr><th>${escapeHTML(type)}</th><td>${escapeHTML(claimText(fields))}</td></tr>`).join('')
  return `<h2>Granted authorization details</h2><table id="authorization-details">${rows || '<tr><td>(none)</td></tr>'}</table>`
}

/** What went wrong, for the person in front of the browser, by express-par's error code. */
const EXPLANATIONS = {
  ERR_LOGIN_REFUSED: 'The login was cancelled or refused, so you are not logged in.',
  ERR_LOGIN_NOT_PENDING: 'This login has expired or was already used (after the back button, for example, or in another browser). Please log in again.',
  ERR_LOGIN_EXPIRED: 'This login took too long and has expired. Please log in again.',
  ERR_CALLBACK_INVALID: 'The login could not be completed from this link. Please log in again.',
  ERR_CODE_REJECTED: 'The login could not be completed. Please log in again.',
  ERR_ISSUER_MISMATCH: 'The login could not be completed safely, so you are not logged in. Please log in again.',
  ERR_JARM_INVALID: 'The login could not be completed safely, so you are not logged in. Please log in again.',
  ERR_UNAUTHENTICATED: 'You need to log in to see this page.',
  ERR_IDP_LOGOUT_UNSUPPORTED: 'You are logged out of this app, but may still be logged in at the login service.',
}
const BY_STATUS = {
  500: 'Logging in does not work right now because of a problem in this app. Please try again later.',
  502: 'The login service is not working as expected right now. Please try again in a moment.',
  504: 'The login service is not answering right now. Please try again in a moment.',
}
const explain = (code, status) =>
  (Object.hasOwn(EXPLANATIONS, code) ? EXPLANATIONS[code] : Object.hasOwn(BY_STATUS, status) ? BY_STATUS[status] : 'Something went wrong. Please try again.')

// Logging out changes state, so it is a POST from the app's own page: express-par refuses a logout
// that another site asks for (ERR_LOGOUT_CROSS_SITE), and a POST form works in every browser.
const logoutButton = '<form class="inline" method="post" action="/logout"><button id="logout" type="submit">Log out</button></form>'

/**
 * Builds the example app.
 *
 * @param {object} options
 * @param {import('express-par').AuthOptions} options.auth options for express-par's auth()
 * @param {string | string[]} [options.sessionSecret] default: a random one, made when the app is built
 *   (sessions then end with the process; set one, the same on every instance, to keep them)
 * @param {import('express-session').Store} [options.sessionStore] default: express-session's MemoryStore
 * @param {string} [options.sessionCookie] the session cookie's name (two apps on one host need two names); default connect.sid
 * @param {string} [options.title] the app's name on its pages
 * @param {boolean} [options.silentLogin] try a prompt=none login once per session on page loads (attemptSilentLogin())
 * @param {string} [options.endOPSession] URL of the OP's page that ends its session ("log out everywhere")
 * @param {{ name: string, url: string }} [options.otherApp] another app at the same OP, linked from the profile
 * @param {typeof express} [options.express] the express module to use (tests pass Express 4 too)
 * @param {(err: Error) => void} [options.log] where server errors go, with their cause (default console.error)
 * @param {string} [options.resourceURL] a resource server (e.g. the OP's userinfo endpoint) that
 *   `/api/resource` calls with the user's access token through `req.oidc.fetch()`
 * @param {import('express-par').AuthorizationDetail} [options.paymentConsent] a payment (RFC 9396
 *   authorization detail): the home page offers to pay it, through a login that asks the OP for
 *   consent to it (`/pay`); the profile shows the details the token response granted
 */
export function createApp({
  auth: authOptions,
  sessionSecret = randomBytes(32).toString('base64url'),
  sessionStore,
  sessionCookie,
  title = 'express-par example',
  silentLogin = false,
  endOPSession,
  otherApp,
  express: expressModule = express,
  log = (err) => console.error(err),
  resourceURL,
  paymentConsent,
}) {
  const app = expressModule()
  const secure = new URL(authOptions.baseURL).protocol === 'https:'
  if (secure) app.set('trust proxy', 1)
  // Security headers as Express apps set them: no X-Powered-By, no framing by any site (a framed
  // page could start a login inside the frame), and a Content-Security-Policy that runs no script
  // but the page's own.
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          scriptSrc: ["'self'", RELOAD_ON_RESTORE_HASH],
          frameAncestors: ["'none'"],
          // The logout form's answer redirects to the OP's end_session_endpoint (idpLogout), and
          // browsers hold a form's redirects to form-action too.
          formAction: ["'self'", new URL(authOptions.issuerBaseURL).origin],
          // Over http: (the local demo), upgrading would send the browser to an https: nobody serves.
          upgradeInsecureRequests: secure ? [] : null,
        },
      },
      xFrameOptions: { action: 'deny' },
    }),
  )
  app.use(
    session({
      // Over https, a __Host- cookie: browsers take it only from this host (Secure, Path=/, no
      // Domain), so a sibling subdomain cannot plant a session in it. Browsers refuse the prefix
      // over http:, so the local demo keeps the default name.
      ...(secure && { name: '__Host-sid' }),
      secret: sessionSecret,
      resave: false,
      saveUninitialized: false,
      store: sessionStore,
      ...(sessionCookie && !secure && { name: sessionCookie }),
      cookie: { httpOnly: true, sameSite: 'lax', secure, path: '/' },
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
    const tokenType = req.oidc.accessToken?.token_type
    const body = req.oidc.isAuthenticated()
      ? `<p>Logged in as <strong>${escapeHTML(req.oidc.user.name ?? req.oidc.user.sub)}</strong>.</p>
         ${tokenType === 'dpop' ? '<p id="token-type">Access token: DPoP-bound (RFC 9449), to a key pair made for this login.</p>' : ''}
         <nav><a href="/profile">Profile</a> · ${logoutButton}</nav>`
      : `<p>You are not logged in.</p><p><a id="login" href="/login?returnTo=%2Fprofile">Log in</a></p>`
    res.send(page(title, body + (paymentConsent ? payButton(paymentConsent) : '')))
  })

  // A payment consent (RFC 9396): a login that asks the OP for the user's consent to this payment.
  // The OP shows it on its consent page; what it granted comes back with the tokens.
  if (paymentConsent) {
    app.get('/pay', (req, res, next) => {
      res.oidc.login({ returnTo: '/profile', authorizationParams: { authorization_details: [paymentConsent] } }, next)
    })
  }

  app.get('/profile', requiresAuth(), (req, res) => {
    const rows = Object.entries(req.oidc.user)
      .map(([name, value]) => `<tr><th>${escapeHTML(name)}</th><td>${escapeHTML(claimText(value))}</td></tr>`)
      .join('')
    const granted = grantedDetails(req.oidc.authorizationDetails)
    res.send(page('Profile', `<table id="claims">${rows}</table>${granted}<nav><a href="/">Home</a> · ${logoutButton}</nav>${everywhere(req.oidc.idTokenClaims.sid)}`))
  })

  // The OP session this login belongs to, and how to end it there: the OP then tells every app of
  // that session over the back channel (backchannelLogout), and each logs out on its next request.
  const everywhere = (sid) => `<h2>Log out everywhere</h2>
    <p>This login belongs to the OP session <code id="sid">${escapeHTML(sid ?? '(the OP sent no sid)')}</code>.
    Every app session of it ends when the OP session ends, in every tab and on every instance of the app.</p>
    ${otherApp ? `<p>Try it: log in to <a id="other-app" href="${escapeHTML(otherApp.url)}/profile">${escapeHTML(otherApp.name)}</a> too (the OP signs you in without a password), ` : '<p>Try it: '}
    ${endOPSession ? `<a id="end-op-session" href="${escapeHTML(endOPSession)}">end the session at the OP</a>, and reload the profile pages: all are logged out.</p>` : 'end your session at the OP, and reload this page: it is logged out.</p>'}`

  app.get('/api/me', requiresAuth(), (req, res) => res.json(req.oidc.user))

  // The access token at work: express-par refreshes it first when it has expired.
  if (resourceURL) {
    app.get('/api/resource', requiresAuth(), async (req, res, next) => {
      try {
        const answer = await req.oidc.fetch(resourceURL)
        res.status(answer.status).json(await answer.json())
      } catch (err) {
        next(err)
      }
    })
  }

  // express-par never renders a page: its errors come here with a status and a stable code. The
  // page says what happened in plain words and offers a new login; express-par's own message, meant
  // for the developer (it never holds attacker-chosen text or internal addresses), is folded away
  // below it. The details (err.cause: the network error, the OP's answer) go to the server's log.
  app.use((err, req, res, _next) => {
    const status = err.status ?? 500
    if (status >= 500) log(err)
    const code = err.code ?? 'ERR_UNEXPECTED'
    res.status(status).send(
      page(
        'Login problem',
        `<p id="error-explanation">${escapeHTML(explain(code, status))}</p>
         <p><a id="try-again" href="/login">Try again</a> · <a href="/">Home</a></p>
         <p>Error code: <code id="error-code">${escapeHTML(code)}</code></p>
         <details><summary>Details for the developer</summary><p>${escapeHTML(err.message)}</p></details>`,
      ),
    )
  })
  return app
}
