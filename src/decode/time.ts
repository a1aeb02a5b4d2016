/**
 * Time normalisation: every way the source files write an instant becomes one ISO-8601
 * UTC string at PostgreSQL's precision (microseconds), or `null` when it cannot be a TWAP
 * event time.
 *
 * Integer epochs carry no reliable unit: early files wrote epoch milliseconds into
 * `timestamp[ns]` columns, which read as January 1970. The unit is therefore taken from
 * the magnitude (< 1e11 seconds, < 1e14 ms, < 1e17 µs, else ns). For every date between
 * 2000 and 2100 the four ranges cannot overlap, so the rule is right for honest columns
 * and repairs the mislabelled ones. Anything that still lands outside 2000..2100 is
 * unusable: a stored date is never in 1970.
 */

/** 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z in epoch milliseconds. */
const MIN_MS = 946_684_800_000
const MAX_MS = 4_102_444_800_000

/**
 * A value of a parquet TIMESTAMP (or INT96) column, kept as the integer the file holds.
 * Decoding returns these instead of `Date` (which loses µs and ns) so the unit can be
 * chosen by magnitude and the raw payload can keep every digit. Dictionary-encoded
 * columns share one instance per distinct value, so the formatted strings are cached.
 */
export class ParquetTimestamp {
  private isoUs: string | null | undefined
  private isoNs: string | null | undefined

  readonly value: bigint | number

  constructor(value: bigint | number) {
    this.value = value
  }

  /** ISO-8601 UTC with at most microseconds, or `null` when outside 2000..2100. */
  iso(): string | null {
    if (this.isoUs === undefined) this.formatBoth()
    return this.isoUs as string | null
  }

  /** ISO-8601 UTC with every digit the file holds (ns kept), or `null` when unusable. */
  isoFull(): string | null {
    if (this.isoNs === undefined) this.formatBoth()
    return this.isoNs as string | null
  }

  // Both forms at once: decoding asks for both (the event time and the raw payload).
  private formatBoth(): void {
    const ok = split(this.value)
    this.isoUs = ok ? format(splitMs, splitSubMsNs, 6) : null
    this.isoNs = ok ? format(splitMs, splitSubMsNs, 9) : null
  }
}

/**
 * Normalises one time value of any encoding to ISO-8601 UTC with at most microsecond
 * precision (trailing fraction zeros dropped), or `null` when it is missing, malformed or
 * outside 2000-01-01..2100-01-01. Accepts parquet timestamps, integer and float epochs
 * (unit by magnitude), digit strings, ISO strings with or without a zone, `Date`s and
 * UTF-8 bytes.
 */
export function normalizeTime(value: unknown): string | null {
  switch (typeof value) {
    case 'object':
      if (value instanceof ParquetTimestamp) return value.iso()
      if (value instanceof Date) return isoFromEpoch(value.getTime(), 6)
      if (value instanceof Uint8Array) return isoFromString(utf8.decode(value), 6)
      return null
    case 'bigint':
    case 'number':
      return isoFromEpoch(value, 6)
    case 'string':
      return isoFromString(value, 6)
    default:
      return null
  }
}

const utf8 = new TextDecoder()

/**
 * Formats an epoch number of unknown unit (chosen by magnitude) as ISO-8601 UTC keeping
 * at most `digits` fraction digits (6 or 9), or `null` when unusable.
 */
export function isoFromEpoch(value: bigint | number, digits: 6 | 9): string | null {
  return split(value) ? format(splitMs, splitSubMsNs, digits) : null
}

// The result of `split`, in module variables rather than a fresh object per value.
let splitMs = 0
let splitSubMsNs = 0

/**
 * Splits an epoch of unknown unit (chosen by magnitude) into whole milliseconds and the
 * nanoseconds past them, into `splitMs` and `splitSubMsNs`; false when not a positive
 * finite number.
 */
function split(value: bigint | number): boolean {
  if (typeof value === 'bigint') {
    if (value <= 9_007_199_254_740_991n) return value > 0n && split(Number(value))
    // Only nanoseconds reach beyond 2^53 in 2000..2100.
    splitMs = Number(value / 1_000_000n)
    splitSubMsNs = Number(value % 1_000_000n)
    return true
  }
  if (!(value > 0) || !Number.isFinite(value)) return false
  let ms: number
  if (value < 1e11) {
    ms = value * 1000
  } else if (value < 1e14) {
    ms = value
  } else if (value < 1e17 && Number.isInteger(value)) {
    ms = Math.floor(value / 1000)
    splitMs = ms
    splitSubMsNs = (value - ms * 1000) * 1000
    return true
  } else {
    ms = value < 1e17 ? value / 1000 : value / 1e6
  }
  if (Number.isInteger(ms)) {
    splitMs = ms
    splitSubMsNs = 0
    return true
  }
  const whole = Math.floor(ms)
  // µs is all a double near 1.7e12 ms can carry honestly; ns digits would be noise.
  let sub = Math.round((ms - whole) * 1000) * 1000
  let carry = 0
  if (sub >= 1_000_000) {
    carry = 1
    sub = 0
  }
  splitMs = whole + carry
  splitSubMsNs = sub
  return true
}

/**
 * Parses `YYYY-MM-DD[T| ]HH:MM[:SS[.fraction]][Z|±HH[:MM]]` (no zone = UTC), a date alone
 * (midnight UTC) or a string of digits (an epoch, unit by magnitude). Written by hand:
 * `Date.parse` drops digits past milliseconds and reads zone-less strings as local time.
 */
export function isoFromString(text: string, digits: 6 | 9): string | null {
  const s = text.trim()
  const n = s.length
  if (n === 0) return null
  if (n < 10 || s.charCodeAt(4) !== 45 /* - */) {
    return isDigits(s) ? isoFromEpoch(n > 15 ? BigInt(s) : Number(s), digits) : null
  }
  const year = num(s, 0, 4)
  const month = num(s, 5, 2)
  const day = num(s, 8, 2)
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || s.charCodeAt(7) !== 45) return null
  let hour = 0
  let minute = 0
  let second = 0
  let subMsNs = 0
  let msPart = 0
  let offsetMin = 0
  let i = 10
  if (i < n) {
    const sep = s.charCodeAt(i)
    if (sep !== 84 /* T */ && sep !== 32 /* space */ && sep !== 116 /* t */) return null
    hour = num(s, 11, 2)
    minute = num(s, 14, 2)
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || s.charCodeAt(13) !== 58 /* : */) return null
    i = 16
    if (i < n && s.charCodeAt(i) === 58) {
      second = num(s, 17, 2)
      if (second < 0 || second > 59) return null
      i = 19
      if (i < n && (s.charCodeAt(i) === 46 /* . */ || s.charCodeAt(i) === 44 /* , */)) {
        i++
        const start = i
        let fraction = 0 // first 9 digits as nanoseconds
        while (i < n) {
          const d = s.charCodeAt(i) - 48
          if (d < 0 || d > 9) break
          if (i - start < 9) fraction = fraction * 10 + d
          i++
        }
        if (i === start) return null
        for (let k = i - start; k < 9; k++) fraction *= 10
        msPart = Math.floor(fraction / 1_000_000)
        subMsNs = fraction % 1_000_000
      }
    }
    if (i < n) {
      const z = s.charCodeAt(i)
      if ((z === 90 /* Z */ || z === 122 /* z */) && i === n - 1) {
        i = n
      } else if (z === 43 /* + */ || z === 45 /* - */) {
        const oh = num(s, i + 1, 2)
        let om = 0
        let end = i + 3
        if (end < n) {
          if (s.charCodeAt(end) === 58) end++
          om = num(s, end, 2)
          end += 2
        }
        if (oh < 0 || oh > 23 || om < 0 || om > 59 || end !== n) return null
        offsetMin = (z === 43 ? 1 : -1) * (oh * 60 + om)
        i = n
      } else {
        return null
      }
    }
  }
  if (i < n) return null
  const dayMs = Date.UTC(year, month - 1, day)
  // Date.UTC rolls 2025-02-30 over into March; such a string is malformed, not a date.
  if (new Date(dayMs).getUTCDate() !== day) return null
  const ms = dayMs + ((hour * 60 + minute - offsetMin) * 60 + second) * 1000 + msPart
  return format(ms, subMsNs, digits)
}

/** ISO-8601 UTC from whole epoch ms plus sub-ms nanoseconds; `null` outside 2000..2100. */
function format(ms: number, subMsNs: number, digits: 6 | 9): string | null {
  if (!(ms >= MIN_MS && ms <= MAX_MS)) return null
  // Built from parts: `new Date(ms).toISOString()` for every value would dominate decoding
  // of millions of rows, while the date part repeats and can be cached.
  const day = Math.floor(ms / 86_400_000)
  let rest = ms - day * 86_400_000
  const hour = Math.floor(rest / 3_600_000)
  rest -= hour * 3_600_000
  const minute = Math.floor(rest / 60_000)
  rest -= minute * 60_000
  const second = Math.floor(rest / 1000)
  const milli = rest - second * 1000
  // The fraction as an integer of `digits` digits, then without its trailing zeros.
  let fraction = digits === 6 ? milli * 1000 + Math.floor(subMsNs / 1000) : milli * 1_000_000 + subMsNs
  let width: number = digits
  while (fraction !== 0 && fraction % 10 === 0) {
    fraction /= 10
    width--
  }
  // Short pieces concatenate into flat strings; joining the long ones (rather than `+`)
  // keeps a rope of every piece from living on in each event.
  parts[0] = dayPrefix(day)
  parts[1] = (TWO_DIGITS[hour] as string) + ':' + (TWO_DIGITS[minute] as string) + ':' + (TWO_DIGITS[second] as string)
  parts[2] = fraction === 0 ? 'Z' : '.' + String(fraction).padStart(width, '0') + 'Z'
  return parts.join('')
}

const parts = ['', '', '']
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))

// `YYYY-MM-DDT` by epoch day, in a small direct-mapped cache (an event and its TWAP's
// placement time may fall on different days).
const DAY_SLOTS = 16
const cachedDays = new Float64Array(DAY_SLOTS).fill(Number.NaN)
const cachedDayPrefixes: string[] = new Array<string>(DAY_SLOTS).fill('')

function dayPrefix(day: number): string {
  const slot = day & (DAY_SLOTS - 1)
  if (cachedDays[slot] === day) return cachedDayPrefixes[slot] as string
  const prefix = new Date(day * 86_400_000).toISOString().slice(0, 11)
  cachedDays[slot] = day
  cachedDayPrefixes[slot] = prefix
  return prefix
}

/** The non-negative integer written in `len` ASCII digits at `at`, or -1. */
function num(s: string, at: number, len: number): number {
  if (at + len > s.length) return -1
  let v = 0
  for (let k = at; k < at + len; k++) {
    const d = s.charCodeAt(k) - 48
    if (d < 0 || d > 9) return -1
    v = v * 10 + d
  }
  return v
}

function isDigits(s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    const d = s.charCodeAt(k) - 48
    if (d < 0 || d > 9) return false
  }
  return s.length > 0
}
