/** The README's error table documents exactly the codes of ERROR_STATUS, each with its status. */

import { readFileSync } from 'node:fs'
import { ERROR_STATUS } from '../../lib/errors.js'

test('README error table = ERROR_STATUS', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('<!-- errors -->')
  const end = readme.indexOf('<!--', start + 1)
  const section = readme.slice(start, end === -1 ? undefined : end)
  const rows = [...section.matchAll(/^\| (\d{3}) \| `(ERR_[A-Z_]+)` \|/gm)].map((m) => [m[2], Number(m[1])])
  expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS)
  expect(rows).toHaveLength(Object.keys(ERROR_STATUS).length)
})
