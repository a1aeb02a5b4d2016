import { isDigit } from './integer.ts'

const utf8 = new TextDecoder()

/**
 * Exact decimal text of a number cell: a valid decimal string as written (trimmed), a
 * float64 as its shortest round-trip decimal without exponent notation, an int64 as its
 * digits, and `null` for NaN, ±Infinity and anything else.
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
