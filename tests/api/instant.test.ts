import { describe, expect, it } from 'vitest'
import { compactInstant, formatInstant, parseInstant } from '#src/api/instant.ts'

const iso = (text: string) => {
  const micros = parseInstant(text)
  return micros === null ? null : formatInstant(micros)
}

describe('start and end instants', () => {
  it('reads a date alone as midnight UTC and a time without a zone as UTC', () => {
    expect(iso('2025-11-01')).toBe('2025-11-01T00:00:00Z')
    expect(iso('2025-11-01T12:30')).toBe('2025-11-01T12:30:00Z')
    expect(iso('2025-11-01 12:30:15')).toBe('2025-11-01T12:30:15Z')
  })

  it('applies zones, including one whose + became a space in a query string', () => {
    expect(iso('2025-11-01T01:00:00+01:00')).toBe('2025-11-01T00:00:00Z')
    expect(iso('2025-11-01T01:00:00 01:00')).toBe('2025-11-01T00:00:00Z')
    expect(iso('2025-11-01T00:00:00.5-0530')).toBe('2025-11-01T05:30:00.5Z')
    expect(iso('2025-11-01T00:00:00-03')).toBe('2025-11-01T03:00:00Z')
    expect(iso('2025-11-01t00:00:00z')).toBe('2025-11-01T00:00:00Z')
  })

  it('keeps microseconds exactly and drops finer digits', () => {
    expect(parseInstant('2025-11-01T00:00:00.000001Z')! - parseInstant('2025-11-01')!).toBe(1n)
    expect(iso('2025-11-01T00:00:00.123456789Z')).toBe('2025-11-01T00:00:00.123456Z')
    expect(iso('1969-12-31T23:59:59.999999Z')).toBe('1969-12-31T23:59:59.999999Z')
  })

  it('rejects what is not a real instant of years 0001 to 9999', () => {
    for (const text of ['', 'yesterday', '2025-02-29', '2025-11-31', '2025-11-01T24:00', '2025-11-01T12:60', '2025-11-01T12:00:60',
      '2025-11-01T00:00:00+24:00', '0000-01-01', '0001-01-01T00:00:00+01:00', '9999-12-31T23:59:59-01:00', '20251101', '2025-11-01T1:00', '1730419200']) {
      expect(parseInstant(text), text).toBeNull()
    }
    expect(iso('2024-02-29')).toBe('2024-02-29T00:00:00Z')
    expect(iso('2000-02-29')).toBe('2000-02-29T00:00:00Z')
    expect(parseInstant('1900-02-29')).toBeNull()
  })

  it('writes an instant for a filename: the date alone at midnight, else date and time', () => {
    expect(compactInstant(parseInstant('2025-11-01')!)).toBe('20251101')
    expect(compactInstant(parseInstant('2025-11-01T06:30:00Z')!)).toBe('20251101T063000Z')
    expect(compactInstant(parseInstant('2025-11-01T00:00:00.5Z')!)).toBe('20251101T000000.5Z')
    expect(compactInstant(parseInstant('2025-11-01')!, { withTime: true })).toBe('20251101T000000Z')
  })
})
