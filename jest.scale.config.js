/** `npm run test:scale`: the scale-out suite (a real redis-server, two app instances), same ESM setup as jest.config.js. */
import base from './jest.config.js'

export default {
  ...base,
  testMatch: ['<rootDir>/test/scale/**/*.test.ts'],
  testTimeout: 30000,
}
