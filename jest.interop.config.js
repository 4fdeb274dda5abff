/** `npm run test:interop`: logins through express-par against another, independent OP (Debian's Glewlwyd) in headless Chromium (test/interop/). */
import base from './jest.config.js'

export default {
  ...base,
  testMatch: ['<rootDir>/test/interop/**/*.test.ts'],
  testTimeout: 30000,
}
