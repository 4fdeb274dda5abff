/** Levenshtein distance, for "did you mean" hints on option names. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution)
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The known name a misspelt one most likely meant (`clientId` -> `clientID`, `issuerBaseUrl` ->
 * `issuerBaseURL`), or `undefined` when none is close.
 */
export function suggest(given: string, known: readonly string[]): string | undefined {
  const lower = given.toLowerCase()
  const sameLetters = known.find((name) => name.toLowerCase() === lower)
  if (sameLetters) return sameLetters
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(given.length / 4)) + 1
  for (const name of known) {
    const d = distance(lower, name.toLowerCase())
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best
}
