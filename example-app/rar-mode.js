// Payment-consent mode of the example app (`npm start -- --rar`): Rich Authorization Requests
// (RFC 9396). The home page gets a "Pay" button whose login asks the OP, besides the user, for
// consent to one payment (an `authorization_details` entry of type payment_initiation); the OP
// shows the payment on its consent page, and the profile page shows what the token response
// granted (`req.oidc.authorizationDetails`).
//
// The local OP (oidc-provider) gets its RAR feature: which types it knows, how it checks a
// payment, and its policy of what a code and an access token carry (the payments the user
// consented to in this login, nothing else). oidc-provider requires resource indicators with it.
import { errors } from 'oidc-provider'

export const PAYMENT_TYPE = 'payment_initiation'
/** The resource server the payments are for (oidc-provider needs a resource indicator with RAR). */
export const PAYMENTS_RESOURCE = 'urn:express-par:example:payments'

/** The payment the "Pay" button asks consent for (the shape of the FAPI / Open Banking examples). */
export const DEMO_PAYMENT = Object.freeze({
  type: PAYMENT_TYPE,
  actions: ['initiate'],
  locations: ['https://bank.example/payments'],
  instructedAmount: { currency: 'EUR', amount: '123.50' },
  creditorName: 'Merchant A',
  creditorAccount: { iban: 'DE02100100109307118603' },
  remittanceInformationUnstructured: 'Ref Number Merchant',
})

const AMOUNT = /^\d{1,9}(\.\d{1,2})?$/

/** The OP's check of one payment_initiation detail (oidc-provider calls it for every requested detail). */
function validatePayment(_ctx, detail) {
  const { instructedAmount: amount, creditorName, creditorAccount } = detail
  if (typeof amount !== 'object' || amount === null || !/^[A-Z]{3}$/.test(amount.currency) || !AMOUNT.test(amount.amount)) {
    throw new errors.InvalidAuthorizationDetails('payment_initiation needs instructedAmount { currency (ISO 4217), amount (decimal string) }')
  }
  if (typeof creditorName !== 'string' || creditorName === '') throw new errors.InvalidAuthorizationDetails('payment_initiation needs a creditorName')
  if (typeof creditorAccount?.iban !== 'string') throw new errors.InvalidAuthorizationDetails('payment_initiation needs creditorAccount { iban }')
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b)

/**
 * oidc-provider's `features.richAuthorizationRequests` for payments. Its defaults throw "not
 * implemented" on purpose: an OP must decide what a code and a token carry. Here: the details this
 * login asked for that the user consented to (the grant keeps every consent of the session, so
 * the request narrows it).
 */
export function paymentAuthorizationRequests() {
  return {
    enabled: true,
    types: { [PAYMENT_TYPE]: { validate: validatePayment } },
    authorizationDetailsForGrantSource(ctx) {
      const requested = ctx.oidc.params.authorization_details ? JSON.parse(ctx.oidc.params.authorization_details) : []
      const consented = ctx.oidc.grant.rar ?? []
      return requested.filter((detail) => consented.some((given) => same(given, detail)))
    },
    authorizationDetailsForAccessToken: (_ctx, _token, source) => source.rar,
    authorizationDetailsForIntrospection: (_ctx, token) => token.rar,
  }
}

/** oidc-provider's `features` for RAR: the payments feature above, and the resource indicators it needs. */
export function rarOpFeatures() {
  return {
    resourceIndicators: {
      enabled: true,
      // A login that asks for authorization details is for the payments API (RFC 8707 §2).
      defaultResource: (ctx, _client, oneOf) => oneOf ?? (ctx.oidc.params?.authorization_details ? PAYMENTS_RESOURCE : undefined),
      getResourceServerInfo: (_ctx, indicator) => {
        if (indicator !== PAYMENTS_RESOURCE) throw new errors.InvalidTarget()
        return { scope: 'payments', accessTokenFormat: 'opaque' }
      },
    },
    richAuthorizationRequests: paymentAuthorizationRequests(),
  }
}

/**
 * Payment consent on top of another setup (the default, `--jar`, `--fapi`): the OP's RAR
 * feature, the client allowed the payment type, and the app's "Pay" button.
 *
 * @param {{ client: object, opFeatures: object, auth: object }} setup
 */
export function withPaymentConsent(setup) {
  return {
    ...setup,
    client: { ...setup.client, authorization_details_types: [PAYMENT_TYPE] },
    opFeatures: { ...setup.opFeatures, ...rarOpFeatures() },
    app: { ...setup.app, paymentConsent: DEMO_PAYMENT },
  }
}
