// Small statistics helpers for the benchmark report.

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length

/** `a / b` rounded to two decimals, or null when it means nothing. */
export const ratio = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? Math.round((a / b) * 100) / 100 : null)

export const round = (value, digits = 2) => (typeof value === 'number' ? Math.round(value * 10 ** digits) / 10 ** digits : value)
