import { describe, expect, it } from 'vitest'
import { hoursBetween, hoursOfKey } from '#src/source/key-hours.ts'

const at = (iso: string) => Date.parse(iso)

describe('hoursOfKey', () => {
  it.each([
    ['raw/twap_statuses/hourly/2025/08/17/13/part-00000.snappy.parquet', '2025-08-17T13:00:00Z', 1],
    ['raw/twap_statuses/2025/08/17/00/data.parquet', '2025-08-17T00:00:00Z', 1],
    ['node_fills_by_block/hourly/20251027/6.lz4', '2025-10-27T06:00:00Z', 1],
    ['node_fills/hourly/20250601/23.lz4', '2025-06-01T23:00:00Z', 1],
    ['lake/twap/dt=2025-09-01/hour=07/part-1.parquet', '2025-09-01T07:00:00Z', 1],
    ['exports/twap_2025-09-01T07.parquet', '2025-09-01T07:00:00Z', 1],
    ['exports/2025-09-01-07.parquet', '2025-09-01T07:00:00Z', 1],
  ])('reads the hour of %s', (key, start, count) => {
    expect(hoursOfKey(key)).toEqual({ start: at(start), count })
  })

  it.each([
    ['raw/twap_statuses/daily/2025/08/17/part-0.parquet', '2025-08-17T00:00:00Z'],
    ['lake/twap/dt=2025-09-01/part-1.parquet', '2025-09-01T00:00:00Z'],
    ['node_trades/20250520/all.lz4', '2025-05-20T00:00:00Z'],
    ['exports/twap_2025-09-01.parquet', '2025-09-01T00:00:00Z'],
  ])('reads a daily key %s as the whole day', (key, start) => {
    expect(hoursOfKey(key)).toEqual({ start: at(start), count: 24 })
  })

  it.each([
    'raw/twap_statuses/part-00000.parquet',
    'local:/home/me/twaps.parquet',
    'raw/twap_statuses/2025/13/01/00/x.parquet',
    'raw/twap_statuses/2025/02/30/00/x.parquet',
    'raw/twap_statuses/2025/08/17/24/x.parquet',
    'objects/12345678/9.lz4',
  ])('finds no hour in %s', (key) => {
    expect(hoursOfKey(key)).toBeNull()
  })
})

describe('hoursBetween', () => {
  it('spans every hour from the first time to the last, both included', () => {
    expect(hoursBetween(at('2025-11-01T10:59:59Z'), at('2025-11-01T13:00:00Z'))).toEqual({ start: at('2025-11-01T10:00:00Z'), count: 4 })
    expect(hoursBetween(at('2025-11-01T10:15:00Z'), at('2025-11-01T10:45:00Z'))).toEqual({ start: at('2025-11-01T10:00:00Z'), count: 1 })
  })
})
