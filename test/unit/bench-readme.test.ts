/** README's "Performance" figures are bench/readme-table.js's rendering of bench/results/ (latest.json, latest-redis.json, runs/), never typed by hand. */

import { readFileSync } from 'node:fs'
import { loadResults, performanceSection, sectionOf } from '../../bench/readme-table.js'

test('README performance section = performanceSection(bench/results/)', async () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const { results, redis, runs } = await loadResults()
  const section = sectionOf(readme)
  expect(section).toBeDefined()
  expect(section).toBe(performanceSection(results, { redis, runs }))
})

test('the README lists the latest memory-store run among its recent runs, and a redis run', async () => {
  const { results, redis, runs } = await loadResults()
  expect(runs.map((run) => run.date)).toContain(results.date)
  expect(redis?.options?.store).toBe('redis')
})
