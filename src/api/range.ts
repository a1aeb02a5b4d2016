import { Type } from 'typebox'
import type { ParameterError } from './schemas/problem.ts'
import { compactInstant, formatInstant, parseInstant, type Micros } from './instant.ts'
import { INSTANT_FORMAT } from './schemas/formats.ts'

/**
 * The time range every endpoint and export reads from `start` and `end`, so that they all
 * agree on what a range covers. Both ends are inclusive; a bare date as `end` covers that
 * whole day, up to (not including) the next midnight UTC, so that `2025-01-01` to
 * `2025-12-31` is the whole year and back-to-back ranges neither overlap nor leave a gap.
 * An `end` with a time is the last instant itself.
 */
export interface TimeRange {
  /** First instant, inclusive. */
  start: Micros
  /** Last instant, inclusive: the last microsecond of the day when `end` was a bare date. */
  end: Micros
  /** True when `end` was a bare date, so the range ends with that whole day. */
  endsWithDay: boolean
}

const BARE_DATE = /^\d{4}-\d{2}-\d{2}$/
const DAY_MICROS = 86_400_000_000n

/** The sentence the README and the OpenAPI document both say about ranges. */
export const RANGE_RULE = 'Both ends are inclusive; a bare date as `end` covers that whole day (up to, not including, the next midnight UTC), so `start=2025-01-01&end=2025-12-31` is the whole year.'

const InstantParameter = (description: string, example: string) => Type.String({
  format: INSTANT_FORMAT,
  maxLength: 64,
  description: `${description} ISO-8601 date (\`2025-11-01\`) or date-time with or without a zone (none means UTC).`,
  examples: [example],
  'x-message': 'must be an ISO-8601 date (2025-11-01) or date-time (2025-11-01T12:30:00Z)',
})

/** The `start` and `end` query parameters, for an endpoint's querystring schema. */
export const RangeParameters = {
  start: InstantParameter('First instant of the range, inclusive; a bare date is 00:00 UTC.', '2025-11-01'),
  end: InstantParameter(`Last instant of the range. ${RANGE_RULE}`, '2025-11-30'),
}

/**
 * The range of `start` and `end` (both already accepted by the `instant` format), or the
 * errors that make it no range: `start` after the range's end.
 */
export function parseTimeRange(query: { start: string; end: string }): { range: TimeRange; errors: [] } | { range: null; errors: ParameterError[] } {
  const start = parseInstant(query.start)
  const endAt = parseInstant(query.end)
  const errors: ParameterError[] = []
  if (start === null) errors.push({ parameter: 'start', message: 'must be an ISO-8601 date (2025-11-01) or date-time (2025-11-01T12:30:00Z)' })
  if (endAt === null) errors.push({ parameter: 'end', message: 'must be an ISO-8601 date (2025-11-01) or date-time (2025-11-01T12:30:00Z)' })
  if (start === null || endAt === null) return { range: null, errors }
  const endsWithDay = BARE_DATE.test(query.end.trim())
  const end = endsWithDay ? endAt + DAY_MICROS - 1n : endAt
  if (start > end) {
    return { range: null, errors: [{ parameter: 'start', message: 'must not be after end' }, { parameter: 'end', message: 'must not be before start' }] }
  }
  return { range: { start, end, endsWithDay }, errors: [] }
}

/** The range's ends as ISO-8601 UTC text, as responses show them and queries bind them. */
export function rangeBounds(range: TimeRange): { start: string; end: string } {
  return { start: formatInstant(range.start), end: formatInstant(range.end) }
}

/**
 * The range as a filename part, saying what was served: `20250101_20251231` for whole
 * days (the last day named, as it is included), `20251101T120000Z` for an end with a time
 * (always with its time, so an end at midnight is not read as that whole day).
 */
export function rangeFilePart(range: TimeRange): string {
  const end = range.endsWithDay ? compactInstant(range.end - DAY_MICROS + 1n) : compactInstant(range.end, { withTime: true })
  return `${compactInstant(range.start)}_${end}`
}
