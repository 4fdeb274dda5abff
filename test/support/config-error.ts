import { buildConfig, type AuthOptions } from '../../lib/config/options.js'
import { ExpressParError } from '../../lib/errors.js'

/** The ERR_CONFIG_INVALID that `auth()`'s validation throws for `options`; fails the test when it accepts them. */
export function configError(options: unknown): ExpressParError {
  try {
    buildConfig(options as AuthOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(ExpressParError)
    expect((err as ExpressParError).code).toBe('ERR_CONFIG_INVALID')
    return err as ExpressParError
  }
  throw new Error('buildConfig accepted the options')
}
