/**
 * Conversions of single parquet values into the exact text and scalar forms a `TwapEvent`
 * carries, and the JSON text of a whole source row. Every function here takes any value a
 * parquet column can decode to (string, number, bigint, boolean, bytes, timestamp,
 * struct object, list) and returns `null` rather than throwing when it does not fit:
 * a bad cell makes a NULL, never a failed file.
 */

import { ParquetTimestamp } from './time.ts'

const utf8 = new TextDecoder()

/**
 * Exact decimal text of a number cell. A decimal string stays exactly as written (trimmed)
 * when it is a valid decimal, a float64 becomes its shortest round-trip decimal without
 * exponent notation, an int64 its digits; NaN, ±Infinity and anything else give `null`.
 */
export function decimalText(value: unknown): string | null {
  switch (typeof value) {
    case 'string':
      return decimalString(value)
    case 'number':
      return numberText(value)
    case 'bigint':
      return value.toString()
    case 'object':
      return value instanceof Uint8Array ? decimalString(utf8.decode(value)) : null
    default:
      return null
  }
}

/** The trimmed string when it is a decimal PostgreSQL's NUMERIC reads exactly, else `null`. */
function decimalString(value: string): string | null {
  const s = value.trim()
  const n = s.length
  let i = 0
  let c = s.charCodeAt(0)
  if (c === 43 /* + */ || c === 45 /* - */) i++
  let mantissaDigits = 0
  while (i < n && isDigit(s.charCodeAt(i))) { i++; mantissaDigits++ }
  if (i < n && s.charCodeAt(i) === 46 /* . */) {
    i++
    while (i < n && isDigit(s.charCodeAt(i))) { i++; mantissaDigits++ }
  }
  if (mantissaDigits === 0) return null
  if (i < n) {
    c = s.charCodeAt(i)
    if (c !== 101 /* e */ && c !== 69 /* E */) return null
    i++
    c = s.charCodeAt(i)
    if (c === 43 || c === 45) i++
    const start = i
    while (i < n && isDigit(s.charCodeAt(i))) i++
    if (i === start || i < n) return null
  }
  return s
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57
}

/**
 * A float64 as the shortest decimal that reads back to the same double, in positional
 * notation (`1e-7` → `"0.0000001"`, `1e21` → `"1000000000000000000000"`); `null` for NaN
 * and ±Infinity. `String` already picks the shortest digits; only its exponent is undone.
 */
export function numberText(value: number): string | null {
  if (!Number.isFinite(value)) return null
  const s = String(value)
  const e = s.indexOf('e')
  return e === -1 ? s : expandExponent(s, e)
}

function expandExponent(s: string, e: number): string {
  const negative = s.charCodeAt(0) === 45
  const mantissa = s.slice(negative ? 1 : 0, e)
  const exponent = Number(s.slice(e + 1))
  const dot = mantissa.indexOf('.')
  const digits = dot === -1 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1)
  const point = (dot === -1 ? mantissa.length : dot) + exponent
  let out: string
  if (point <= 0) {
    out = '0.' + '0'.repeat(-point) + digits
  } else if (point >= digits.length) {
    out = digits + '0'.repeat(point - digits.length)
  } else {
    out = digits.slice(0, point) + '.' + digits.slice(point)
  }
  return negative ? '-' + out : out
}

/**
 * The exact decimal text of a parquet DECIMAL: its unscaled integer (INT32, INT64 or
 * big-endian two's complement bytes) divided by 10^scale, e.g. (12345n, 2) → `"123.45"`.
 * Decoding reads DECIMAL columns unscaled so no float ever touches them.
 */
export function decimalFromUnscaled(unscaled: unknown, scale: number): string | null {
  let v: bigint
  if (typeof unscaled === 'bigint') v = unscaled
  else if (typeof unscaled === 'number' && Number.isInteger(unscaled)) v = BigInt(unscaled)
  else if (unscaled instanceof Uint8Array) v = bigintFromTwosComplement(unscaled)
  else return null
  if (scale <= 0) return (scale === 0 ? v : v * 10n ** BigInt(-scale)).toString()
  const negative = v < 0n
  const digits = (negative ? -v : v).toString().padStart(scale + 1, '0')
  const cut = digits.length - scale
  return (negative ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut)
}

function bigintFromTwosComplement(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  if (bytes.length > 0 && (bytes[0] as number) & 0x80) v -= 1n << BigInt(bytes.length * 8)
  return v
}

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

/** A flag written as a boolean, `'true'`/`'false'` (any case, also t/f, yes/no), or 0/1. */
export function boolean(value: unknown): boolean | null {
  switch (typeof value) {
    case 'boolean':
      return value
    case 'number':
    case 'bigint':
      return value == 1 ? true : value == 0 ? false : null
    case 'string':
      switch (value.trim().toLowerCase()) {
        case 'true': case 't': case '1': case 'yes': case 'y':
          return true
        case 'false': case 'f': case '0': case 'no': case 'n':
          return false
        default:
          return null
      }
    default:
      return null
  }
}

/**
 * A text cell trimmed (`null` when empty). Numbers become their digits, bytes UTF-8 text,
 * nested values their JSON. NUL characters are dropped: PostgreSQL TEXT cannot hold them.
 */
export function text(value: unknown): string | null {
  let s: string
  switch (typeof value) {
    case 'string':
      s = value
      break
    case 'number':
      return numberText(value)
    case 'bigint':
    case 'boolean':
      return String(value)
    case 'object':
      if (value === null) return null
      s = value instanceof Uint8Array ? utf8.decode(value) : jsonValue(value)
      break
    default:
      return null
  }
  s = s.trim()
  if (s.length === 0) return null
  return s.indexOf('\u0000') === -1 ? s : s.replaceAll('\u0000', '')
}

/**
 * A wallet address lower-cased, when it is `0x` + 40 hex digits after trimming; else
 * `null`. Users and some files write checksummed mixed case.
 */
export function wallet(value: unknown): string | null {
  let s = typeof value === 'string' ? value : value instanceof Uint8Array ? utf8.decode(value) : null
  if (s === null) return null
  if (s.length !== 42) s = s.trim()
  if (s.length !== 42) return null
  s = s.toLowerCase()
  if (s.charCodeAt(0) !== 48 || s.charCodeAt(1) !== 120 /* 0x */) return null
  for (let i = 2; i < 42; i++) {
    const c = s.charCodeAt(i)
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return null
  }
  return s
}

/**
 * The status word as text. An error status arrives either as text (`error: …`) or nested
 * (`{error: "…"}` as a struct, or that object as JSON text); both read
 * `error: Insufficient margin`. Any other nested value reads as its JSON.
 */
export function statusText(value: unknown): string | null {
  if (typeof value === 'string') {
    const s = value.trim()
    if (s.length === 0) return null
    if (s.charCodeAt(0) === 123 /* { */) {
      try {
        const parsed: unknown = JSON.parse(s)
        if (parsed !== null && typeof parsed === 'object') return nestedStatus(parsed as Record<string, unknown>)
      } catch {
        // not JSON after all: the text is the status
      }
    }
    return text(s)
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !Array.isArray(value)) {
    return nestedStatus(value as Record<string, unknown>)
  }
  if (value instanceof Uint8Array) return statusText(utf8.decode(value))
  return text(value)
}

function nestedStatus(value: Record<string, unknown>): string | null {
  const error = value.error
  if (error !== null && error !== undefined) {
    return `error: ${typeof error === 'string' ? error.trim() : jsonValue(error)}`
  }
  const status = value.status
  if (typeof status === 'string') {
    const description = value.description
    return status === 'error' && typeof description === 'string' ? `error: ${description.trim()}` : status.trim()
  }
  return text(jsonValue(value))
}

/**
 * JSON text of one decoded value, for the raw payload. int64 within ±(2^53−1) is a JSON
 * number and beyond that a decimal string (a JSON number would lose digits in every
 * JavaScript reader); timestamps are ISO strings with every digit of the file; bytes are
 * UTF-8 text; structs are objects and lists arrays; NaN and ±Infinity are `null`.
 * Written by hand because `JSON.stringify` throws on bigint and its replacer is slow.
 */
export function jsonValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value)
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null'
    case 'bigint':
      return value >= -9_007_199_254_740_991n && value <= 9_007_199_254_740_991n ? value.toString() : `"${value}"`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object': {
      if (value === null) return 'null'
      if (value instanceof ParquetTimestamp) {
        const iso = value.isoFull()
        return iso === null ? jsonValue(value.value) : `"${iso}"`
      }
      if (value instanceof Uint8Array) return jsonString(utf8.decode(value))
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'null' : `"${value.toISOString()}"`
      if (Array.isArray(value) || ArrayBuffer.isView(value)) {
        let out = '['
        const list = value as ArrayLike<unknown>
        for (let i = 0; i < list.length; i++) {
          if (i > 0) out += ','
          out += jsonValue(list[i])
        }
        return out + ']'
      }
      let out = '{'
      let first = true
      for (const key of Object.keys(value)) {
        const v = (value as Record<string, unknown>)[key]
        if (v === undefined) continue
        out += (first ? '' : ',') + jsonString(key) + ':' + jsonValue(v)
        first = false
      }
      return out + '}'
    }
    default:
      return 'null'
  }
}

/**
 * A JSON string literal. PostgreSQL's JSONB refuses `\u0000`, so NUL characters are
 * dropped here, the one place every raw string passes through.
 */
export function jsonString(s: string): string {
  return JSON.stringify(s.indexOf('\u0000') === -1 ? s : s.replaceAll('\u0000', ''))
}

/**
 * `fn` memoised for string arguments, for one column's cells. Dictionary-encoded columns
 * (wallets, coins, sizes, statuses) repeat a few values over many rows, so this saves the
 * work per row; a column that hardly repeats (event times as text) turns the cache off
 * after its first 1,024 lookups rather than paying for misses.
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
