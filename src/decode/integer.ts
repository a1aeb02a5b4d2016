const utf8 = new TextDecoder()

/**
 * The decimal digits of a non-negative integer id (int64, integral float64 or a string
 * of digits, leading zeros dropped), or `null` when empty or not such an integer.
 */
export function integerText(value: unknown): string | null {
  switch (typeof value) {
    case 'bigint':
      return value >= 0n ? value.toString() : null
    case 'number':
      return Number.isSafeInteger(value) && value >= 0 ? String(value) : null
    case 'string': {
      const s = value.trim()
      if (s.length === 0) return null
      let first = -1
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i)
        if (!isDigit(c)) return null
        if (first === -1 && c !== 48) first = i
      }
      return first === -1 ? '0' : first === 0 ? s : s.slice(first)
    }
    case 'object':
      return value instanceof Uint8Array ? integerText(utf8.decode(value)) : null
    default:
      return null
  }
}

/** A whole number that fits PostgreSQL's INTEGER (number, bigint or digit string), else `null`. */
export function int32(value: unknown): number | null {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'bigint') n = Number(value)
  else if (typeof value === 'string' && value.trim() !== '') n = Number(value)
  else return null
  return Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647 ? n : null
}

/** True for the char code of an ASCII digit, 0 to 9. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}
