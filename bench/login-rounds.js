// The login phase: a first login per app alone (sizes, and the discovery/JWKS fetches a cold start
// needs), then rounds of logins: in each round the apps, in a shuffled order, each log in
// `loginsPerRound` times in a row with a fresh app session, the app's CPU read around its block.
import { loginOnce } from './logins.js'
import { shuffled } from './prng.js'

const diff = (after, before) => ({ discovery: after.discovery - before.discovery, jwks: after.jwks - before.jwks })

export async function firstLogins({ apps, browsers, op, names, log }) {
  const first = {}
  for (const name of names) {
    const before = op.fetches()
    const result = await loginOnce(apps[name], browsers[name], { measureSizes: true })
    first[name] = { ...result, fetches: diff(op.fetches(), before) }
    log(`${name}: first login ok (login ${result.loginMs.toFixed(1)} ms, callback ${result.callbackMs.toFixed(1)} ms)`)
  }
  return first
}

/**
 * @returns {Promise<{ timings: Record<string, { loginMs: number[], callbackMs: number[] }>, cpuPerLogin: Record<string, number[]>, laterFetches: Record<string, { discovery: number, jwks: number }>, orders: string[][] }>}
 */
export async function loginRounds({ apps, browsers, op, names, options, random, log }) {
  const timings = Object.fromEntries(names.map((name) => [name, { loginMs: [], callbackMs: [] }]))
  const cpuPerLogin = Object.fromEntries(names.map((name) => [name, []]))
  const laterFetches = Object.fromEntries(names.map((name) => [name, { discovery: 0, jwks: 0 }]))
  const orders = []
  for (let round = 0; round < options.rounds; round++) {
    const order = shuffled(names, random)
    orders.push(order)
    for (const name of order) {
      const cpuBefore = await apps[name].cpu()
      const fetchesBefore = op.fetches()
      for (let i = 0; i < options.loginsPerRound; i++) {
        const { loginMs, callbackMs } = await loginOnce(apps[name], browsers[name])
        timings[name].loginMs.push(loginMs)
        timings[name].callbackMs.push(callbackMs)
      }
      const fetched = diff(op.fetches(), fetchesBefore)
      laterFetches[name].discovery += fetched.discovery
      laterFetches[name].jwks += fetched.jwks
      cpuPerLogin[name].push(((await apps[name].cpu()).cpuMicros - cpuBefore.cpuMicros) / options.loginsPerRound)
    }
    log(`login round ${round + 1}: ${order.map((name) => `${name} ${Math.round(cpuPerLogin[name].at(-1))} µs`).join(', ')}`)
  }
  return { timings, cpuPerLogin, laterFetches, orders }
}
