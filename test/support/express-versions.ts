import express4 from 'express4'
import express5 from 'express'
import type { ExpressModule } from './stack.js'

/** Every integration suite runs on both supported Express majors. */
export const EXPRESS_VERSIONS: Array<[string, ExpressModule]> = [
  ['Express 5', express5],
  ['Express 4', express4 as unknown as ExpressModule],
]
