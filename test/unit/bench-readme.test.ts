/** README's "Performance" figures are bench/readme-table.js's rendering of bench/results/latest.json, never typed by hand. */

import { readFileSync } from 'node:fs'
import { performanceSection, sectionOf } from '../../bench/readme-table.js'

test('README performance section = performanceSection(latest.json)', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const latest = JSON.parse(readFileSync(new URL('../../bench/results/latest.json', import.meta.url), 'utf8'))
  const section = sectionOf(readme)
  expect(section).toBeDefined()
  expect(section).toBe(performanceSection(latest))
})
