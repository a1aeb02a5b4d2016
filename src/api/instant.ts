/**
 * The instants a client may write in `start` and `end`: ISO-8601 with or without a zone
 * (none means UTC), or a bare date meaning 00:00 UTC. Parsed here rather than with `Date`
 * because stored times carry microseconds and `Date` keeps only milliseconds, and because
 * `Date.parse` accepts far more than ISO-8601 (and reads a zone-less time as local time).
 */

const ISO = new RegExp(
  '^(\\d{4})-(\\d{2})-(\\d{2})' +
    '(?:[Tt ](\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d{1,9}))?)?' +
    // A `+` left unencoded in a query string arrives as a space: read it back as `+`.
    '(?:([Zz])|([+\\- ])(\\d{2})(?::?(\\d{2}))?)?)?$',
)

/** An instant as microseconds since the Unix epoch (exact: a `number` cannot hold them). */
export type Micros = bigint

/**
 * Parses `text` as described above and returns its microseconds since the epoch, or null
 * when it is not such an instant (wrong shape, 2025-02-30, 24:00, a zone beyond ±23:59).
 * Digits beyond the microsecond are dropped.
 */
export function parseInstant(text: string): Micros | null {
  const m = ISO.exec(text)
  if (!m) return null
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', , sign, oh = '00', om = '00'] = m
  const year = Number(y), month = Number(mo), day = Number(d)
  const hour = Number(h), minute = Number(mi), second = Number(s)
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59 || Number(oh) > 23 || Number(om) > 59) return null
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, 0)
  const offsetMinutes = sign === undefined ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om))
  const micros = BigInt(date.getTime() - offsetMinutes * 60_000) * 1000n + BigInt(frac.padEnd(6, '0').slice(0, 6))
  return micros >= MIN && micros <= MAX ? micros : null
}

// Years 0001 to 9999 after applying the zone: what ISO-8601 writes with four digits and
// PostgreSQL reads back.
const MIN = BigInt(Date.parse('0001-01-01T00:00:00Z')) * 1000n
const MAX = BigInt(Date.parse('9999-12-31T23:59:59.999Z')) * 1000n + 999n

/** True when `text` is an instant `parseInstant` accepts: the `instant` string format. */
export function isInstant(text: string): boolean {
  return parseInstant(text) !== null
}

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!
}

/**
 * ISO-8601 in UTC with a `Z` (`2025-11-03T12:30:00Z`), with a fraction only when the
 * microseconds are not zero, trailing zeros trimmed: the form every time in a response has.
 * PostgreSQL reads it back exactly.
 */
export function formatInstant(micros: Micros): string {
  let ms = micros / 1000n
  let sub = micros % 1000n
  if (sub < 0n) {
    ms -= 1n
    sub += 1000n
  }
  const iso = new Date(Number(ms)).toISOString()
  const fraction = (iso.slice(20, 23) + sub.toString().padStart(3, '0')).replace(/0+$/, '')
  return iso.slice(0, 19) + (fraction ? '.' + fraction : '') + 'Z'
}

/**
 * `20251101` for midnight (unless `withTime`), else `20251101T123000Z`, a fraction kept
 * (`20251101T235959.999999Z`): an instant as it appears in a filename.
 */
export function compactInstant(micros: Micros, options: { withTime?: boolean } = {}): string {
  const iso = formatInstant(micros)
  const date = iso.slice(0, 10).replace(/-/g, '')
  const time = iso.slice(11, -1).replace(/:/g, '')
  return time === '000000' && !options.withTime ? date : `${date}T${time}Z`
}
