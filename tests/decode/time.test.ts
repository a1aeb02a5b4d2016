import { describe, expect, it } from 'vitest'
import { isoFromEpoch, normalizeTime, ParquetTimestamp } from '#src/decode/time.ts'

// 2025-12-04T17:00:22.417074898Z, an upstream event's time, in every unit.
const NS = 1_764_867_622_417_074_898n
const US = 1_764_867_622_417_074n
const MS = 1_764_867_622_417n
const S = 1_764_867_622n

describe('normalizeTime', () => {
  it('reads parquet timestamps in ms, µs and ns, truncating to microseconds', () => {
    expect(normalizeTime(new ParquetTimestamp(MS))).toBe('2025-12-04T17:00:22.417Z')
    expect(normalizeTime(new ParquetTimestamp(US))).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime(new ParquetTimestamp(NS))).toBe('2025-12-04T17:00:22.417074Z')
  })

  it('repairs epoch milliseconds that were written into a timestamp[ns] column', () => {
    // Read as nanoseconds this would be 1970-01-01T00:29:24.867622417Z.
    expect(normalizeTime(new ParquetTimestamp(MS))).toBe('2025-12-04T17:00:22.417Z')
  })

  it('keeps every nanosecond digit for the raw payload', () => {
    expect(new ParquetTimestamp(NS).isoFull()).toBe('2025-12-04T17:00:22.417074898Z')
    expect(new ParquetTimestamp(MS).isoFull()).toBe('2025-12-04T17:00:22.417Z')
  })

  it('picks the unit of an integer epoch by its magnitude', () => {
    expect(normalizeTime(S)).toBe('2025-12-04T17:00:22Z')
    expect(normalizeTime(Number(MS))).toBe('2025-12-04T17:00:22.417Z')
    expect(normalizeTime(MS)).toBe('2025-12-04T17:00:22.417Z')
    expect(normalizeTime(US)).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime(NS)).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime(Number(MS))).toBe(normalizeTime(String(MS)))
  })

  it('reads double epoch milliseconds with a fraction to the microsecond', () => {
    expect(normalizeTime(1_764_867_622_417.074)).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime(1_764_867_622_417.5)).toBe('2025-12-04T17:00:22.4175Z')
  })

  it('treats an ISO string without a zone as UTC and keeps up to 9 fraction digits (to µs)', () => {
    expect(normalizeTime('2025-12-04T17:00:22.417074898')).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime('2025-12-04 17:00:22.4')).toBe('2025-12-04T17:00:22.4Z')
    expect(normalizeTime('2025-11-03T12:30:00')).toBe('2025-11-03T12:30:00Z')
    expect(normalizeTime('2025-11-03T12:30')).toBe('2025-11-03T12:30:00Z')
    expect(normalizeTime('2025-11-03')).toBe('2025-11-03T00:00:00Z')
  })

  it('honours Z and numeric zone offsets', () => {
    expect(normalizeTime('2025-12-04T17:00:22.417074898Z')).toBe('2025-12-04T17:00:22.417074Z')
    expect(normalizeTime('2025-12-04T19:00:22.417+02:00')).toBe('2025-12-04T17:00:22.417Z')
    expect(normalizeTime('2025-12-04T12:30:22-0430')).toBe('2025-12-04T17:00:22Z')
    expect(normalizeTime('2025-12-05T01:00:00+08')).toBe('2025-12-04T17:00:00Z')
  })

  it('drops trailing zeros of the fraction', () => {
    expect(normalizeTime('2025-11-03T12:30:00.000000000')).toBe('2025-11-03T12:30:00Z')
    expect(normalizeTime('2025-11-03T12:30:00.120000')).toBe('2025-11-03T12:30:00.12Z')
    expect(normalizeTime(new ParquetTimestamp(1_762_173_000_000_000_000n))).toBe('2025-11-03T12:30:00Z')
  })

  it('rejects instants outside 2000..2100 instead of storing a 1970 date', () => {
    expect(normalizeTime(0)).toBeNull()
    expect(normalizeTime(0n)).toBeNull()
    expect(normalizeTime(-MS)).toBeNull()
    expect(normalizeTime('1970-01-01T00:29:24.867622417')).toBeNull()
    expect(normalizeTime('1999-12-31T23:59:59Z')).toBeNull()
    expect(normalizeTime('2100-01-01T00:00:01Z')).toBeNull()
    expect(normalizeTime(new ParquetTimestamp(946_684_799_999n))).toBeNull()
    expect(normalizeTime('2000-01-01T00:00:00Z')).toBe('2000-01-01T00:00:00Z')
  })

  it('returns null for missing or malformed values', () => {
    for (const bad of [null, undefined, '', '   ', 'yesterday', '2025-13-01', '2025-02-30T00:00:00',
      '2025-11-03T25:00:00', '2025-11-03T12:30:00.', '2025-11-03T12:30:00+25:00', '2025-11-03T12:30:00 UTC',
      Number.NaN, Number.POSITIVE_INFINITY, true, {}]) {
      expect(normalizeTime(bad), String(bad)).toBeNull()
    }
  })

  it('formats ns beyond 2^53 exactly', () => {
    expect(isoFromEpoch(NS, 9)).toBe('2025-12-04T17:00:22.417074898Z')
    expect(isoFromEpoch(NS, 6)).toBe('2025-12-04T17:00:22.417074Z')
  })
})
