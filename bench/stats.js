// Small statistics helpers for the benchmark report.

export const median = (values) => quantile(values, 0.5)

/** The q-quantile of `values` (linear interpolation between closest ranks), or null when empty. */
export function quantile(values, q) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low)
}

export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length

/** `a / b` unrounded, or null when it means nothing. */
export const divide = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? a / b : null)

/** `a / b` rounded to two decimals, or null when it means nothing. */
export const ratio = (a, b) => round(divide(a, b), 2)

export const round = (value, digits = 2) => (typeof value === 'number' ? Math.round(value * 10 ** digits) / 10 ** digits : value)

/** How a per-round figure spread across rounds: median, IQR (p25, p75), min, max, and the values. */
export function spread(values, digits = 2) {
  const kept = values.filter((v) => typeof v === 'number' && Number.isFinite(v))
  return {
    median: round(quantile(kept, 0.5), digits),
    p25: round(quantile(kept, 0.25), digits),
    p75: round(quantile(kept, 0.75), digits),
    min: round(quantile(kept, 0), digits),
    max: round(quantile(kept, 1), digits),
    rounds: kept.map((v) => round(v, 3)),
  }
}
