import { buildConfig, type AuthOptions } from '../../lib/config/options.js'
import { configError } from '../support/config-error.js'

const valid: AuthOptions = {
  issuerBaseURL: 'https://op.example.com',
  baseURL: 'https://app.example.com',
  clientID: 'client',
  clientSecret: 'secret',
}

describe('buildConfig refuses', () => {
  test.each<[string, unknown, RegExp]>([
    ['no options', undefined, /options object/],
    ['a missing issuerBaseURL', { ...valid, issuerBaseURL: undefined }, /`issuerBaseURL` is required/],
    ['a missing baseURL', { ...valid, baseURL: undefined }, /`baseURL` is required/],
    ['a missing clientID', { ...valid, clientID: undefined }, /`clientID` is required/],
    ['an empty clientID', { ...valid, clientID: ' ' }, /`clientID` must be a non-empty string/],
    ['a missing clientSecret', { ...valid, clientSecret: undefined }, /`clientSecret` is required: PAR/],
    ['an unknown option', { ...valid, colour: 'red' }, /unknown option `colour`\.$/],
    ['a near miss, with a suggestion', { ...valid, clientId: 'x' }, /unknown option `clientId`. Did you mean `clientID`\?/],
    ['a typo, with a suggestion', { ...valid, issuerBaseUrl: 'x' }, /Did you mean `issuerBaseURL`\?/],
    ['another typo', { ...valid, httpTimout: 5 }, /Did you mean `httpTimeout`\?/],
    ['an unknown route', { ...valid, routes: { logon: '/x' } }, /unknown option `routes.logon`. Did you mean `routes.login`\?/],
    ['an http issuer', { ...valid, issuerBaseURL: 'http://op.example.com' }, /http: URL .* `allowInsecureRequests: true`/],
    ['an http baseURL off loopback', { ...valid, baseURL: 'http://app.example.com' }, /`baseURL` is an http: URL/],
    ['a relative issuer', { ...valid, issuerBaseURL: 'op.example.com' }, /must be an absolute URL/],
    ['an issuer that is neither https: nor http:', { ...valid, issuerBaseURL: 'ftp://op.example.com' }, /`issuerBaseURL` must be an https: URL, got ftp:/],
    ['a baseURL that is neither https: nor http:', { ...valid, baseURL: 'file:///srv/app' }, /`baseURL` must be an https: URL, got file:/],
    ['an issuer with a query', { ...valid, issuerBaseURL: 'https://op.example.com/?a=b' }, /must not have a query/],
    ['an unsupported clientAuthMethod', { ...valid, clientAuthMethod: 'client_secret_magic' }, /`clientAuthMethod` must be one of client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth, got "client_secret_magic"/],
    ['a public client', { ...valid, clientAuthMethod: 'none' }, /`clientAuthMethod: 'none'` \(a public client\) is refused: PAR/],
    ['a route without a leading slash', { ...valid, routes: { login: 'login' } }, /`routes.login` must be a path/],
    ['a protocol-relative route', { ...valid, routes: { login: '//evil' } }, /`routes.login` must be a path/],
    ['a disabled callback', { ...valid, routes: { callback: false } }, /cannot be disabled/],
    ['two routes on one path', { ...valid, routes: { login: '/auth', logout: '/auth' } }, /must be different paths/],
    ['a negative httpTimeout', { ...valid, httpTimeout: -1 }, /`httpTimeout` must be a positive number/],
    ['a string clockTolerance', { ...valid, clockTolerance: '5' }, /`clockTolerance` must be a non-negative number/],
    ['a scope without openid', { ...valid, authorizationParams: { scope: 'profile' } }, /must include `openid`/],
    ['a state in authorizationParams', { ...valid, authorizationParams: { state: 'x' } }, /`state` is set by express-par/],
    ['a redirect_uri in authorizationParams', { ...valid, authorizationParams: { redirect_uri: 'https://evil' } }, /`redirect_uri` is set by express-par/],
    ['a code_challenge_method in authorizationParams', { ...valid, authorizationParams: { code_challenge_method: 'plain' } }, /`code_challenge_method`/],
    ['response_type other than code', { ...valid, authorizationParams: { response_type: 'id_token' } }, /`response_type` is set/],
    ['form_post response mode', { ...valid, authorizationParams: { response_mode: 'form_post' } }, /`response_mode` is set/],
    ['a max_age that is not a whole number', { ...valid, authorizationParams: { max_age: '1h' } }, /`max_age` must be a whole number/],
    ['claims that are not a JSON object', { ...valid, authorizationParams: { claims: '{id_token' } }, /`claims` must be a JSON object/],
    ['claims as an array', { ...valid, authorizationParams: { claims: [{ id_token: {} }] } }, /`claims` must be a JSON object \(OpenID Connect Core §5\.5\): an object, or its JSON text/],
    ['claims as JSON text of an array', { ...valid, authorizationParams: { claims: '[]' } }, /`claims` must be a JSON object/],
    ['claims that have no JSON form', { ...valid, authorizationParams: { claims: { id_token: { acr: { value: 1n } } } } }, /`claims` must be a JSON object/],
    ['a negative max_age', { ...valid, authorizationParams: { max_age: -1 } }, /`max_age` must be a whole number of seconds \(a number or a string of digits\), got -1/],
    ['a fractional max_age', { ...valid, authorizationParams: { max_age: 1.5 } }, /`max_age` must be a whole number of seconds .*, got 1.5/],
    ['a max_age of NaN', { ...valid, authorizationParams: { max_age: Number.NaN } }, /`max_age` must be a whole number of seconds/],
    ['another parameter as a number', { ...valid, authorizationParams: { ui_locales: 5 } }, /`ui_locales` must be a string, got number/],
    ['another parameter as an object', { ...valid, authorizationParams: { acr_values: ['a', 'b'] } }, /`acr_values` must be a string, got an array/],
    ['authorization_details as an object', { ...valid, authorizationParams: { authorization_details: { type: 'payment_initiation' } } }, /`authorization_details` must be an array of objects \(RFC 9396 §2\)\./],
    ['an empty authorization_details', { ...valid, authorizationParams: { authorization_details: [] } }, /`authorization_details` is an empty array; leave it out instead/],
    ['authorization_details with a string in it', { ...valid, authorizationParams: { authorization_details: ['payment_initiation'] } }, /`authorization_details` must be an array of objects \(RFC 9396 §2\), but entry 0 is a string/],
    ['authorization_details with an array in it', { ...valid, authorizationParams: { authorization_details: [{ type: 'a' }, []] } }, /but entry 1 is an array/],
    ['authorization_details with null in it', { ...valid, authorizationParams: { authorization_details: [null] } }, /but entry 0 is null/],
    ['a detail without type', { ...valid, authorizationParams: { authorization_details: [{ actions: ['read'] }] } }, /`authorization_details` entry 0 has no `type` string \(RFC 9396 §2 requires one in every detail\)/],
    ['a detail whose type is a number', { ...valid, authorizationParams: { authorization_details: [{ type: 7 }] } }, /entry 0 has no `type` string/],
    ['a detail whose type is empty', { ...valid, authorizationParams: { authorization_details: [{ type: '' }] } }, /entry 0 has no `type` string/],
    ['a detail that is a Date, not a JSON object', { ...valid, authorizationParams: { authorization_details: [new Date(0)] } }, /entry 0 is an object that is not plain JSON \(a Date, a Map, a class instance\)/],
    ['a detail with a BigInt inside', { ...valid, authorizationParams: { authorization_details: [{ type: 'a', amount: 1n }] } }, /`authorization_details` cannot be written as JSON/],
    ['authorization_details as JSON text of an object', { ...valid, authorizationParams: { authorization_details: '{"type":"a"}' } }, /`authorization_details` must be an array of objects \(RFC 9396 §2\) \(read as the JSON text of one\)/],
    ['authorization_details as text that is not JSON', { ...valid, authorizationParams: { authorization_details: '[{type:a}]' } }, /`authorization_details` must be an array of objects/],
    ['response_mode=jwt in authorizationParams, pointing at responseMode', { ...valid, authorizationParams: { response_mode: 'jwt' } }, /`response_mode` is set by express-par on every request: the query response mode, or `jwt` \(JARM, signed authorization responses\) with the `responseMode: 'jwt'` option/],
    ['a non-boolean idpLogout', { ...valid, idpLogout: 'yes' }, /`idpLogout` must be a boolean/],
    ['a non-function afterCallback', { ...valid, afterCallback: {} }, /`afterCallback` must be a function/],
    ['a session option that is not an object', { ...valid, session: 3600 }, /`session` must be an object/],
    ['an unknown session option', { ...valid, session: { absoluteDurtion: 60 } }, /unknown option `session.absoluteDurtion`. Did you mean `session.absoluteDuration`\?/],
    ['a zero absoluteDuration', { ...valid, session: { absoluteDuration: 0 } }, /`session.absoluteDuration` must be a positive number of seconds or false/],
    ['a rollingDuration in a string', { ...valid, session: { rollingDuration: '1d' } }, /`session.rollingDuration` must be a positive number of seconds or false, got "1d"/],
    ['a rollingDuration of true', { ...valid, session: { rollingDuration: true } }, /`session.rollingDuration` must be a positive number/],
    ['a name with a space', { ...valid, name: 'staff portal' }, /`name` must be 1 to 32 letters, digits/],
    ['an empty name', { ...valid, name: '' }, /`name` must be 1 to 32/],
    ['a name that is not a string', { ...valid, name: 7 }, /`name` must be/],
    ['a coordination that is not an object', { ...valid, coordination: 'redis://x' }, /`coordination` must be a coordination store/],
    ['a coordination without its methods', { ...valid, coordination: { get() {}, delete() {} } }, /`coordination` lacks setIfAbsent, addToSet, members/],
    ['a non-boolean backchannelLogout', { ...valid, backchannelLogout: 'yes' }, /`backchannelLogout` must be true or false, got "yes"/],
    ['routes.backchannelLogout without backchannelLogout', { ...valid, routes: { backchannelLogout: '/bcl' } }, /`routes.backchannelLogout` is set but `backchannelLogout` is not true/],
    ['a disabled backchannelLogout route with backchannelLogout on', { ...valid, backchannelLogout: true, routes: { backchannelLogout: false } }, /`routes.backchannelLogout` must be a path starting with "\/", got false/],
    ['the backchannelLogout route on the logout path', { ...valid, backchannelLogout: true, routes: { backchannelLogout: '/logout' } }, /`routes.backchannelLogout` must be different paths/],
  ])('%s', (_name, options, message) => {
    expect(configError(options).message).toMatch(message)
  })
})

describe('authorizationParams refuses every parameter express-par sets itself', () => {
  // Spelled out, not read from RESERVED_AUTHORIZATION_PARAMS: dropping a name from that set must fail here.
  test.each([
    'client_id',
    'redirect_uri',
    'response_type',
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'code_verifier',
    'request',
    'request_uri',
    'response_mode',
  ])('%s', (name) => {
    expect(configError({ ...valid, authorizationParams: { [name]: 'x' } }).message).toContain(`\`${name}\` is set by express-par`)
  })
})

describe('buildConfig accepts', () => {
  test('defaults', () => {
    const config = buildConfig(valid)
    expect(config.routes).toEqual({ login: '/login', callback: '/callback', logout: '/logout', postLogoutRedirect: '/', jwks: false, backchannelLogout: false })
    expect(config.backchannelLogout).toBe(false)
    expect(config.redirectUri).toBe('https://app.example.com/callback')
    expect(config.authorizationParams).toEqual({ scope: 'openid profile email' })
    expect(config.clientAuthMethod).toBe('client_secret_basic')
    expect(config.httpTimeout).toBe(5000)
    expect(config.clockTolerance).toBe(60)
    expect(config.lifetimes).toEqual({ absoluteDuration: 7 * 86400, rollingDuration: 86400 })
    expect(config.name).toBe('default')
    expect(typeof config.coordination.setIfAbsent).toBe('function')
    expect(Object.isFrozen(config)).toBe(true)
    expect(Object.isFrozen(config.routes)).toBe(true)
  })

  test('options whose value is undefined count as absent', () => {
    const config = buildConfig({ ...valid, httpTimeout: undefined, routes: { login: undefined }, authorizationParams: { scope: undefined } })
    expect(config.httpTimeout).toBe(5000)
    expect(config.routes.login).toBe('/login')
    expect(config.authorizationParams.scope).toBe('openid profile email')
  })

  test('backchannelLogout: served at /backchannel-logout, or at routes.backchannelLogout', () => {
    expect(buildConfig({ ...valid, backchannelLogout: true }).routes.backchannelLogout).toBe('/backchannel-logout')
    expect(buildConfig({ ...valid, backchannelLogout: true, routes: { backchannelLogout: '/oidc/bcl' } }).routes.backchannelLogout).toBe('/oidc/bcl')
    expect(buildConfig({ ...valid, backchannelLogout: false }).routes.backchannelLogout).toBe(false)
  })

  test('a base path joins the callback', () => {
    expect(buildConfig({ ...valid, baseURL: 'https://app.example.com/shop/' }).redirectUri).toBe('https://app.example.com/shop/callback')
  })

  test('http on loopback for the app, http issuer with allowInsecureRequests', () => {
    expect(() => buildConfig({ ...valid, baseURL: 'http://localhost:3000' })).not.toThrow()
    expect(() => buildConfig({ ...valid, issuerBaseURL: 'http://127.0.0.1:4000', allowInsecureRequests: true })).not.toThrow()
  })

  test('disabled login and logout routes, custom paths, extra authorization parameters', () => {
    const config = buildConfig({
      ...valid,
      routes: { login: false, logout: '/bye', callback: '/auth/cb' },
      authorizationParams: { scope: 'openid', prompt: 'login', response_type: 'code', max_age: '0', claims: '{"id_token":{"acr":null}}' },
    })
    expect(config.routes).toMatchObject({ login: false, logout: '/bye', callback: '/auth/cb' })
    expect(config.authorizationParams).toEqual({ scope: 'openid', prompt: 'login', response_type: 'code', max_age: '0', claims: '{"id_token":{"acr":null}}' })
  })

  test('numbers and JSON values, serialised as the pushed request carries them (express-openid-connect takes them so too)', () => {
    const payment = { type: 'payment_initiation', instructedAmount: { currency: 'EUR', amount: '123.50' }, creditorName: 'Merchant A' }
    const config = buildConfig({
      ...valid,
      authorizationParams: { scope: 'openid', max_age: 300, claims: { id_token: { acr: { essential: true } } }, authorization_details: [payment, { type: 'account_information', actions: ['read'] }] },
    })
    expect(config.authorizationParams).toEqual({
      scope: 'openid',
      max_age: '300',
      claims: '{"id_token":{"acr":{"essential":true}}}',
      authorization_details: JSON.stringify([payment, { type: 'account_information', actions: ['read'] }]),
    })
    expect(Object.isFrozen(config.authorizationParams)).toBe(true)
  })

  test('authorization_details as JSON text, max_age 0 as a number', () => {
    const text = '[{"type":"payment_initiation","creditorName":"Merchant A"}]'
    expect(buildConfig({ ...valid, authorizationParams: { authorization_details: text, max_age: 0 } }).authorizationParams).toMatchObject({ authorization_details: text, max_age: '0' })
  })
})

test('session lifetimes: given, defaulted, or turned off', () => {
  expect(buildConfig({ ...valid, session: { absoluteDuration: 3600 } }).lifetimes).toEqual({ absoluteDuration: 3600, rollingDuration: 86400 })
  expect(buildConfig({ ...valid, session: { rollingDuration: false } }).lifetimes).toEqual({ absoluteDuration: 7 * 86400, rollingDuration: false })
  expect(buildConfig({ ...valid, session: { absoluteDuration: undefined } }).lifetimes).toEqual({ absoluteDuration: 7 * 86400, rollingDuration: 86400 })
})

test('a name and a coordination store of the app’s own', () => {
  const coordination = { setIfAbsent: async () => true, get: async () => undefined, delete: async () => {}, addToSet: async () => {}, members: async () => [] }
  const config = buildConfig({ ...valid, name: 'staff_2-b', coordination })
  expect(config.name).toBe('staff_2-b')
  expect(config.coordination).toBe(coordination)
})
