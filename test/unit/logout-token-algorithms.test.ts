/** Which algorithms a logout token may be signed with: the OP's asymmetric ID token algorithms, narrowed by a FAPI profile. */

import { logoutTokenAlgorithms } from '../../lib/op/logout-token.js'

test('the asymmetric algorithms the OP advertises for ID tokens (RS256 when it lists none)', () => {
  expect(logoutTokenAlgorithms({ id_token_signing_alg_values_supported: ['RS256', 'HS256', 'none', 'PS256'] })).toEqual(['RS256', 'PS256'])
  expect(logoutTokenAlgorithms({})).toEqual(['RS256'])
})

test("under a FAPI profile, only what it permits: an RS256 logout token is refused like an RS256 ID token", () => {
  const profile = { idTokenAlgs: ['PS256', 'ES256', 'EdDSA'] }
  expect(logoutTokenAlgorithms({ id_token_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'] }, profile)).toEqual(['PS256', 'ES256'])
  expect(logoutTokenAlgorithms({}, profile)).toEqual([])
})
