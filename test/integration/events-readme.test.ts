/**
 * The README's "Logging and metrics" subscribers, as pasted: each block is taken from README.md,
 * written next to this repository's node_modules (so `pino` and `prom-client` resolve), run in a
 * child process with a login's events published on express-par's channels, and its output read
 * back: pino's JSON lines, prom-client's metrics.
 */

import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../..', import.meta.url))
const dir = join(root, 'test-results', `readme-snippets-${process.pid}`)

function snippet(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const marker = readme.indexOf(`<!-- readme-snippet: ${name} `)
  if (marker === -1) throw new Error(`README.md has no <!-- readme-snippet: ${name} --> block`)
  const start = readme.indexOf('```js\n', marker) + '```js\n'.length
  return readme.slice(start, readme.indexOf('\n```', start))
}

const EVENTS = `
import { channel } from 'node:diagnostics_channel'
const base = { issuer: 'https://op.example.com', clientID: 'app', name: 'default' }
channel('express-par:login').publish({ ...base, outcome: 'success', durationMs: 3.5 })
channel('express-par:callback').publish({ ...base, outcome: 'success', sub: 'alice', amr: ['pwd'], durationMs: 8.25 })
channel('express-par:callback').publish({ ...base, outcome: 'failure', code: 'ERR_LOGIN_REFUSED', error: 'access_denied', durationMs: 0.5 })
`

/** Runs `code` (the snippet, then `after`) as an ES module in a child process; its stdout. */
function run(name: string, after: string): string {
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}.mjs`)
  writeFileSync(file, `${snippet(name)}\n${EVENTS}\n${after}\n`)
  const child = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 15000 })
  if (child.status !== 0) throw new Error(`${name} failed: ${child.stderr}`)
  return child.stdout
}

afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('the pino subscriber logs each event as one JSON line, info for a success and warn for a failure', () => {
  const lines = run('events-pino', '').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)
  expect(lines).toEqual([
    expect.objectContaining({ level: 30, event: 'login', outcome: 'success', msg: 'express-par login' }),
    expect.objectContaining({ level: 30, event: 'callback', outcome: 'success', sub: 'alice', amr: ['pwd'], msg: 'express-par callback' }),
    expect.objectContaining({ level: 40, event: 'callback', outcome: 'failure', code: 'ERR_LOGIN_REFUSED', error: 'access_denied', msg: 'express-par callback failed: ERR_LOGIN_REFUSED' }),
  ])
})

test('the prom-client subscriber counts outcomes by code and observes durations', () => {
  const metrics = run('events-prometheus', "console.log(await client.register.metrics())")
  expect(metrics).toContain('express_par_outcomes_total{event="login",instance="default",outcome="success",code=""} 1')
  expect(metrics).toContain('express_par_outcomes_total{event="callback",instance="default",outcome="success",code=""} 1')
  expect(metrics).toContain('express_par_outcomes_total{event="callback",instance="default",outcome="failure",code="ERR_LOGIN_REFUSED"} 1')
  expect(metrics).toMatch(/express_par_duration_seconds_count\{event="callback",instance="default"\} 2/)
  expect(metrics).toMatch(/express_par_duration_seconds_sum\{event="callback",instance="default"\} 0\.00875/)
})
