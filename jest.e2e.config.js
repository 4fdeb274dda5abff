/** `npm run test:e2e`: the example app in headless Chromium (test/e2e/), with the ts-jest ESM setup of jest.config.js. */
import base from './jest.config.js'

export default {
  ...base,
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  testTimeout: 30000,
}
