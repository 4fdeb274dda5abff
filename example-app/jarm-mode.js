// JARM mode of the example app (`npm start -- --jarm`): the OP signs its authorization responses
// (JWT Secured Authorization Response Mode). The app asks for them with `responseMode: 'jwt'`; the
// OP then sends the browser back with nothing but `response=<JWT>`, which express-par verifies
// against the OP's keys before it redeems the code inside. Combine it with `--jar` for signed
// requests and signed responses, the pair FAPI 2.0 Message Signing asks for.

/**
 * Signed authorization responses on top of another setup (the default, `--jar`, `--fapi`): the
 * OP's JARM feature, the client registered for it with the algorithm of the OP's key, and the
 * app's `responseMode: 'jwt'`.
 *
 * @param {{ client: object, opFeatures: object, auth: object, opSigningAlg?: string }} setup
 */
export function withSignedResponses(setup) {
  return {
    ...setup,
    client: { ...setup.client, authorization_signed_response_alg: setup.opSigningAlg ?? 'RS256' },
    opFeatures: { ...setup.opFeatures, jwtResponseModes: { enabled: true } },
    auth: { ...setup.auth, responseMode: 'jwt' },
  }
}
