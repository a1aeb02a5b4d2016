/**
 * `fn` memoised for the string cells of one column, since dictionary-encoded columns
 * (wallets, coins, sizes, statuses) repeat a few values over many rows; a column that
 * hardly repeats (event times as text) turns the cache off after its first 1,024 lookups
 * rather than paying for misses.
 */
export function memoizeStrings<T>(fn: (value: unknown) => T): (value: unknown) => T {
  const cache = new Map<string, T>()
  let lookups = 0
  let misses = 0
  let enabled = true
  return (value) => {
    if (typeof value !== 'string' || !enabled) return fn(value)
    const cached = cache.get(value)
    lookups++
    if (cached !== undefined || cache.has(value)) return cached as T
    const result = fn(value)
    misses++
    if (lookups <= 1024 || misses < lookups / 2) {
      if (cache.size >= 16_384) cache.clear()
      cache.set(value, result)
    } else {
      enabled = false
      cache.clear()
    }
    return result
  }
}
