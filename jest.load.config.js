/** `npm run test:load`: the load and soak suites, too slow for `npm test`. Same transform as jest.config.js. */
import base from './jest.config.js'

export default {
  ...base,
  testMatch: ['<rootDir>/test/load/**/*.test.ts'],
  testTimeout: 480000,
  maxWorkers: 1,
}
