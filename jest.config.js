/** Jest runs the TypeScript sources as ESM (ts-jest's ESM preset, transpile only: `npm run typecheck` type-checks). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true }],
  },
  moduleNameMapper: {
    '^express-par$': '<rootDir>/lib/index.ts',
    '^express-par/redis$': '<rootDir>/lib/redis.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/integration/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/quiet-op.ts'],
  // The secret scan of every message published on express-par's diagnostics channels.
  setupFilesAfterEnv: ['<rootDir>/test/support/event-audit.ts'],
  testTimeout: 20000,
}
