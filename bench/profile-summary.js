// `node bench/profile-summary.js <file.cpuprofile> [count]`: what a per-phase profile says, for a
// profile note. Prints the top self-time functions (with url:line) and the top total-time
// (self + callees) entries under express-par's dist/.
import { readFileSync } from 'node:fs'

const [file, countArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/profile-summary.js <file.cpuprofile> [count]')
  process.exit(2)
}
const count = Number(countArg ?? 25)
const { nodes, samples, timeDeltas, startTime, endTime } = JSON.parse(readFileSync(file, 'utf8'))

// Self time per node from the samples (each sample's time is the delta that follows it).
const selfMicros = new Map()
for (let i = 0; i < samples.length; i++) selfMicros.set(samples[i], (selfMicros.get(samples[i]) ?? 0) + (timeDeltas[i + 1] ?? 0))
const byId = new Map(nodes.map((n) => [n.id, n]))
const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, '~/').replace(/^.*\/(dist|bench)\//, '$1/')
const where = ({ callFrame: f }) => `${f.functionName || '(anonymous)'} ${f.url ? `${short(f.url)}:${f.lineNumber + 1}` : ''}`.trim()

// Total time per node: its self time plus its children's.
const totalMicros = new Map()
const total = (id) => {
  if (totalMicros.has(id)) return totalMicros.get(id)
  const node = byId.get(id)
  const sum = (selfMicros.get(id) ?? 0) + (node.children ?? []).reduce((s, child) => s + total(child), 0)
  totalMicros.set(id, sum)
  return sum
}
for (const n of nodes) total(n.id)

// Total time per function under dist/: a frame counts only when the same function is not already
// on the stack above it (recursion and re-entry are not counted twice).
const distTotals = new Map()
const childIds = new Set(nodes.flatMap((n) => n.children ?? []))
const walk = (id, onStack) => {
  const node = byId.get(id)
  const name = where(node)
  const counted = node.callFrame.url.includes('/dist/') && !onStack.has(name)
  if (counted) distTotals.set(name, (distTotals.get(name) ?? 0) + totalMicros.get(id))
  const next = counted ? new Set(onStack).add(name) : onStack
  for (const child of node.children ?? []) walk(child, next)
}
for (const n of nodes) if (!childIds.has(n.id)) walk(n.id, new Set())

const perFunction = (micros) => {
  const sums = new Map()
  for (const n of nodes) sums.set(where(n), (sums.get(where(n)) ?? 0) + (micros.get(n.id) ?? 0))
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, count)
}
const wall = endTime - startTime
const busy = [...selfMicros].filter(([id]) => byId.get(id).callFrame.functionName !== '(idle)').reduce((s, [, v]) => s + v, 0)
const ms = (micros) => `${(micros / 1000).toFixed(1).padStart(9)} ms ${((100 * micros) / (busy || 1)).toFixed(1).padStart(5)}%`
const print = (title, rows) => {
  console.log(`\n${title}`)
  for (const [name, micros] of rows) console.log(`${ms(micros)}  ${name}`)
}

console.log(`${file}: ${(wall / 1000).toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy (percentages of busy time)`)
print(`top ${count} self time`, perFunction(selfMicros))
print(`top ${count} total time under express-par's dist/`, [...distTotals].sort((x, y) => y[1] - x[1]).slice(0, count))
