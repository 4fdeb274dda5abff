/** `npm run test:fapi` (test/fapi/run.js): the FAPI 2.0 suite over HTTPS, with the test CA trusted. Same transform as jest.config.js. */
import base from './jest.config.js'

export default {
  ...base,
  testMatch: ['<rootDir>/test/fapi/**/*.test.ts'],
}
