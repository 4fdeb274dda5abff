// README.md's "Performance" figures, generated from bench/results/, never typed:
// `performanceSection(results, { redis, runs })` is the markdown between `<!-- bench:start -->` and
// `<!-- bench:end -->`: the full tables of the latest memory-store run (latest.json), the ratios of
// the latest `--store redis` run (latest-redis.json) and one line per recent run (runs/*.json).
// `node bench/readme-table.js` (and every `npm run bench`) rewrites it there;
// test/unit/bench-readme.test.ts fails when the README says anything else.
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { JAR_ANCHORS } from './summarize.js'

export const START = '<!-- bench:start -->'
export const END = '<!-- bench:end -->'
const README = fileURLToPath(new URL('../README.md', import.meta.url))
const RESULTS = fileURLToPath(new URL('./results/', import.meta.url))
/** Where a run of each store leaves its results. */
export const LATEST_FILE = { memory: 'latest.json', redis: 'latest-redis.json' }
/** Every run also leaves a copy here, named `<date>-<store>.json`. */
export const RUNS_DIR = 'runs'
/** How many recent runs the README lists. */
const RECENT_RUNS = 5

const dash = '–'
const x = (s) => (s && s.median != null ? `**${s.median}x** (IQR ${s.p25}${dash}${s.p75})` : dash)
const num = (v, unit = '') => (v == null ? dash : `${v}${unit}`)
const us = (v) => (v == null ? dash : v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${Math.round(v)} µs`)
const bytes = (s, where) => (s ? `${s.storedBytes} B ${where} + ${s.cookieBytes} B cookie` : dash)
const fetched = (f) => (f ? `${f.discovery} + ${f.jwks}` : dash)
const row = (cells) => `| ${cells.join(' | ')} |`

const ROUTE_APPS = [['express-par', 'express-par'], ['express-openid-connect', 'express-openid-connect'], ['bare', 'bare express-session'], ['bare-control', 'the same bare app again (control)']]
const LOGIN_ROWS = [
  ['express-par', 'express-par, client_secret_basic', 'express-par / express-openid-connect'],
  ['express-par-jar', 'express-par, JAR + private_key_jwt', 'express-par-jar / express-openid-connect'],
  ['express-par-dpop', 'express-par, DPoP (ES256)', 'express-par-dpop / express-openid-connect'],
  ['express-par-events', 'express-par, a subscriber on every channel', 'express-par-events / express-openid-connect'],
  ['express-openid-connect', 'express-openid-connect, client_secret_basic', undefined],
  ['express-openid-connect-pkjwt', 'express-openid-connect, private_key_jwt', undefined],
  ['express-openid-connect-jar', 'express-openid-connect, JAR + private_key_jwt', undefined],
]

function routeTable(r) {
  const pr = r.protectedRoute ?? {}
  const hr = r.healthRoute ?? {}
  const vsBare = (ratios, name) => (name === 'bare' ? '1x' : x(ratios?.[`${name} / bare`]))
  const lines = [row(['', ...ROUTE_APPS.map(([, label]) => label)]), row(Array(ROUTE_APPS.length + 1).fill('---'))]
  const add = (label, cell) => lines.push(row([label, ...ROUTE_APPS.map(([name]) => cell(name))]))
  add('protected route, requests/s', (n) => num(pr[n]?.requestsPerSecond))
  add('protected route, p99', (n) => num(pr[n]?.p99Ms, ' ms'))
  add('app CPU per protected request', (n) => us(pr[n]?.cpuMicrosPerRequest))
  add('of which off the main thread (GC and compiler threads)', (n) => us(pr[n]?.otherThreadsMicrosPerRequest))
  add('protected capacity vs bare (1 / CPU)', (n) => vsBare(r.ratios?.protectedCapacity, n))
  add('protected throughput vs bare (req/s)', (n) => vsBare(r.ratios?.protectedThroughput, n))
  add('untouched `/health`, app CPU per request', (n) => (hr[n] ? us(hr[n].cpuMicrosPerRequest) : ''))
  add('of which off the main thread', (n) => (hr[n] ? us(hr[n].otherThreadsMicrosPerRequest) : ''))
  add('`/health` capacity vs bare (1 / CPU)', (n) => (hr[n] ? vsBare(r.ratios?.healthCapacity, n) : ''))
  add('session of a logged-in user', (n) => (n === 'express-openid-connect' ? bytes(r.sessionBytes?.[n]?.after, 'stored') : bytes(r.sessionBytes?.[n]?.after, 'in the store')))
  return lines
}

function loginTable(r) {
  const logins = r.logins ?? {}
  const lines = [
    row(['login configuration', 'app CPU per login (both routes)', 'vs express-openid-connect (secret)', 'vs its closest express-openid-connect', '`/login` median', '`/callback` median', 'discovery + JWKS, first / later logins', 'pending login', 'logged-in session']),
    row(Array(9).fill('---')),
  ]
  for (const [name, label, vsSecret] of LOGIN_ROWS) {
    const l = logins[name]
    if (!l) continue
    const closest = name === 'express-par-jar' ? 'express-par-jar / express-openid-connect-jar' : name === 'express-par-dpop' || name === 'express-par-events' ? `${name} / express-par` : undefined
    const f = r.opFetches?.[name]
    lines.push(
      row([
        label,
        `${us(l.cpuMicrosPerLogin?.median)} (IQR ${us(l.cpuMicrosPerLogin?.p25)}${dash}${us(l.cpuMicrosPerLogin?.p75)})`,
        vsSecret ? x(r.ratios?.loginCpu?.[vsSecret]) : '',
        closest ? `${x(r.ratios?.loginCpu?.[closest])} vs ${closest.split(' / ')[1]}` : '',
        num(l.loginMedianMs, ' ms'),
        num(l.callbackMedianMs, ' ms'),
        `${fetched(f?.firstLogin)} / ${fetched(f?.laterLogins)}`,
        bytes(r.sessionBytes?.[name]?.pending, 'stored'),
        bytes(r.sessionBytes?.[name]?.after, 'stored'),
      ]),
    )
  }
  return lines
}

const ratioOf = (r, group, label) => r.ratios?.[group]?.[label]
const SUMMARY_COLUMNS = [
  ['protected capacity vs bare', (r) => ratioOf(r, 'protectedCapacity', 'express-par / bare')],
  ['control: bare vs the same bare app, protected', (r) => ratioOf(r, 'protectedCapacity', 'bare-control / bare')],
  ['`/health` capacity vs bare', (r) => ratioOf(r, 'healthCapacity', 'express-par / bare')],
  ['login CPU, secret, vs express-openid-connect', (r) => ratioOf(r, 'loginCpu', 'express-par / express-openid-connect')],
  ['login CPU, JAR + private_key_jwt, vs express-openid-connect JAR', (r) => JAR_ANCHORS.map((label) => ratioOf(r, 'loginCpu', label)).find(Boolean)],
  ['login CPU, DPoP, vs express-openid-connect (secret)', (r) => ratioOf(r, 'loginCpu', 'express-par-dpop / express-openid-connect')],
  ['login CPU, events subscriber, vs express-par', (r) => ratioOf(r, 'loginCpu', 'express-par-events / express-par')],
]

/** One row per run: its date, store and rounds, and the medians (IQR) of the ratios the targets are about. */
function summaryTable(runs) {
  return [
    row(['run', 'sessions', 'rounds', ...SUMMARY_COLUMNS.map(([label]) => label)]),
    row(Array(SUMMARY_COLUMNS.length + 3).fill('---')),
    ...runs.map((r) => row([r.date ?? dash, r.options?.store ?? 'memory', num(r.options?.rounds), ...SUMMARY_COLUMNS.map(([, of]) => x(of(r)))])),
  ]
}

/** What two identical bare apps measured against each other in this run: the noise floor of its ratios. */
function controlLines(r) {
  const protectedRoute = ratioOf(r, 'protectedCapacity', 'bare-control / bare')
  const health = ratioOf(r, 'healthCapacity', 'bare-control / bare')
  if (!protectedRoute && !health) return []
  return [
    '',
    `Control: the same bare app twice, measured like the others, came out at ${x(protectedRoute)} of itself on the protected route and ${x(health)} on \`/health\`: ` +
      'a ratio of this run closer to 1 than that (or inside that spread) is not a difference this run can see.',
  ]
}

/**
 * The markdown of the README's generated figures: `results` (the shape of latest.json) in full;
 * `redis`, the latest `--store redis` run, as its ratios; `runs`, recent runs newest first, one line each.
 * @param {any} results
 * @param {{ redis?: any, runs?: any[] }} [more]
 */
export function performanceSection(results, { redis, runs = [] } = {}) {
  const m = results.machine ?? {}
  const o = results.options ?? {}
  const load = (l) => (l ? l.join(' ') : dash)
  const lines = [
    '<!-- generated by bench/readme-table.js from bench/results/ (latest.json, latest-redis.json, runs/); edit neither by hand -->',
    '',
    `Run of ${results.date ?? dash}: ${m.cpus ?? dash} cores (${m.cpuModel ?? dash}), Node ${m.node ?? dash}, load average ${load(m.loadavg?.before)} before and ${load(m.loadavg?.after)} after; ` +
      `sessions in ${o.store ?? 'memory'}; ${o.rounds ?? dash} rounds in a shuffled order (seed ${o.seed ?? dash}), ${o.loginsPerRound ?? dash} logins per app per round, ` +
      `${o.seconds ?? dash} s x ${o.connections ?? dash} connections per route run after ${o.warmupSeconds ?? dash} s of warm-up${o.profiled?.length ? `; CPU-profiled: ${o.profiled.join(', ')}` : ''}. ` +
      'Ratios are taken per round, shown as their median (IQR p25–p75) across rounds.',
    '',
    ...routeTable(results),
    '',
    ...loginTable(results),
    '',
    'Targets (issue 19), checked by `bench/report.js`:',
    '',
    ...(results.targets ?? []).map((t) => `- ${t.met ? 'met' : '**missed**'}: ${t.target}: ${t.value}${t.iqr ? ` (IQR ${t.iqr[0]}${dash}${t.iqr[1]})` : ''}`),
    ...controlLines(results),
  ]
  if (redis) {
    const m = redis.machine ?? {}
    lines.push(
      '',
      `Sessions in Redis (\`npm run bench -- --store redis\`), run of ${redis.date ?? dash} on ${m.cpus ?? dash} cores (${m.cpuModel ?? dash}), ${redis.options?.rounds ?? dash} rounds (seed ${redis.options?.seed ?? dash}): ` +
        `express-par and bare keep their sessions in the bench's redis-server, express-par with \`redisCoordination\`; express-openid-connect keeps its cookie. ` +
        `App CPU per protected request: express-par ${us(redis.protectedRoute?.['express-par']?.cpuMicrosPerRequest)}, bare ${us(redis.protectedRoute?.bare?.cpuMicrosPerRequest)}.`,
      '',
      ...summaryTable([redis]),
    )
  }
  if (runs.length > 0) lines.push('', `The last ${runs.length} runs on this kind of machine (bench/results/runs/), newest first, medians (IQR) of the per-round ratios:`, '', ...summaryTable(runs))
  return lines.join('\n')
}

/** The text between the markers, or undefined when README has none. */
export function sectionOf(readme) {
  const start = readme.indexOf(START)
  const end = readme.indexOf(END, start)
  if (start === -1 || end === -1) return undefined
  return readme.slice(start + START.length, end).replace(/^\n/, '').replace(/\n$/, '')
}

const readJSON = async (path) => JSON.parse(await readFile(path, 'utf8'))

/** What the README is generated from: latest.json, latest-redis.json (if a redis run was made) and the recent runs, newest first. */
export async function loadResults(dir = RESULTS) {
  const results = await readJSON(`${dir}${LATEST_FILE.memory}`)
  const redis = await readJSON(`${dir}${LATEST_FILE.redis}`).catch((err) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)))
  const names = await readdir(`${dir}${RUNS_DIR}`).catch((err) => (err.code === 'ENOENT' ? [] : Promise.reject(err)))
  const recent = names.filter((n) => n.endsWith('.json')).sort().reverse().slice(0, RECENT_RUNS)
  const runs = await Promise.all(recent.map((n) => readJSON(`${dir}${RUNS_DIR}/${n}`)))
  return { results, redis, runs }
}

/** Where a finished run's results go: its store's latest file, and (unless CPU-profiled) a dated copy in runs/. Returns the latest file's path. */
export async function saveResults(results, dir = RESULTS) {
  const store = results.options?.store ?? 'memory'
  const json = `${JSON.stringify(results, null, 2)}\n`
  await mkdir(`${dir}${RUNS_DIR}`, { recursive: true })
  await writeFile(`${dir}${LATEST_FILE[store]}`, json)
  // Profiling slows the apps it profiles: not a run to list.
  if (!results.options?.profiled?.length) await writeFile(`${dir}${RUNS_DIR}/${results.date.replace(/[:.]/g, '-')}-${store}.json`, json)
  return `${dir}${LATEST_FILE[store]}`
}

/** Rewrites README.md's generated section from bench/results/; false when it has no markers. */
export async function writeReadme() {
  const { results, redis, runs } = await loadResults()
  const readme = await readFile(README, 'utf8')
  const start = readme.indexOf(START)
  const end = readme.indexOf(END, start)
  if (start === -1 || end === -1) return false
  await writeFile(README, `${readme.slice(0, start + START.length)}\n${performanceSection(results, { redis, runs })}\n${readme.slice(end)}`)
  return true
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stderr.write(`README.md "Performance" section ${(await writeReadme()) ? 'rewritten' : 'not found (no markers)'}\n`)
}
