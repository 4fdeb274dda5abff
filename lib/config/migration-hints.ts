/**
 * What to do instead, for the options of express-openid-connect (3.x, `lib/config.js`) that
 * `auth()` does not take. A user moving over changes the import and gets, for each leftover
 * option, this hint instead of a bare "unknown option".
 *
 * Options with the same name and meaning here (`issuerBaseURL`, `idpLogout`, `routes`, ...) are
 * not listed: they are simply accepted. Not listed either are the names DESIGN.md reserves for
 * express-par's own upcoming options (`session`, `backchannelLogout`, `dpop`, `mtls`, ...): once
 * such an option exists it is accepted, and until then it is an unknown option like any other.
 * When express-par implements one of the concepts below, drop its entry (`auth()` consults this
 * table only for names it does not know, and the config tests list every entry).
 */
export const EXPRESS_OPENID_CONNECT_HINTS: ReadonlyMap<string, string> = new Map([
  [
    'secret',
    "sessions are express-session's job here: register `app.use(session({ secret, resave: false, saveUninitialized: false }))` before `auth()` (any store) and remove `secret`.",
  ],
  [
    'authRequired',
    'express-par protects no route by itself: add `requiresAuth()` to the routes that need a login (or `app.use(requiresAuth())` after `auth()` for every route below it) and remove `authRequired`.',
  ],
  ['auth0Logout', 'use `idpLogout: true`: it ends the session at any OP that offers RP-initiated logout (`end_session_endpoint`), Auth0 included.'],
  [
    'attemptSilentLogin',
    "silent login is a middleware here: `app.use(attemptSilentLogin())` after `auth()` tries one `prompt=none` login per session for anonymous page loads (see the README's Logout section). Remove the option.",
  ],
  [
    'errorOnRequiredAuth',
    '`requiresAuth()` already answers a request that is not a browser navigation with `ERR_UNAUTHENTICATED` (401) through `next(err)`, and sends navigations to the login; remove it.',
  ],
  ['getLoginState', 'the one value carried through a login is `returnTo`: `/login?returnTo=/path` or `res.oidc.login({ returnTo })`. Remove `getLoginState`.'],
  [
    'identityClaimFilter',
    '`req.oidc.user` already leaves out the protocol claims (`aud`, `iss`, `nonce`, `iat`, `exp`, ...); to keep fewer claims, delete them from `auth.claims` in `afterCallback`.',
  ],
  [
    'idTokenSigningAlg',
    "the ID token's algorithm is checked against the OP's metadata (`id_token_signing_alg_values_supported`) and its JWKS; there is nothing to set.",
  ],
  [
    'transactionCookie',
    'a pending login is kept server-side in express-session, keyed by `state`, not in a cookie of its own: configure the one cookie in `session({ cookie: { ... } })`.',
  ],
  ['legacySameSiteCookie', "express-par sets no cookie of its own; the session cookie is express-session's (`cookie: { sameSite: 'lax' }`)."],
  ['pushedAuthorizationRequests', 'PAR is not an option here: every login pushes its authorization request. Remove it.'],
  ['enableTelemetry', 'express-par sends no telemetry. Remove it.'],
  [
    'discoveryCacheMaxAge',
    'the discovery document is kept for the life of the process and a failed discovery is retried on the next request; restart the app after the OP changes its endpoints.',
  ],
  ['tokenEndpointParams', 'the token request carries only what the code exchange needs; extra parameters are not supported.'],
  ['logoutParams', 'with `idpLogout: true` the logout sends `id_token_hint` and `post_logout_redirect_uri`; extra logout parameters are not supported.'],
  ['httpUserAgent', 'the User-Agent of requests to the OP is not configurable.'],
  ['customFetch', 'requests to the OP are made by express-par (openid-client, with `httpTimeout`); a custom fetch is not supported.'],
  ['useMtls', "give the client certificate as `mtls: { cert, key, ca }` (RFC 8705): it is presented on every back-channel call and binds the tokens; `clientAuthMethod: 'tls_client_auth'` also authenticates with it."],
])
