import { describe, expect, it } from 'vitest'
import { readCoverage } from '../../src/store/coverage.ts'
import { engine } from '../support/db.ts'
import { oneTwap, useEtlHarness } from './harness.ts'

const HOUR = 3_600_000
const at = (iso: string) => Date.parse(iso)

describe(`coverage maintained by the ingest, on ${engine}`, () => {
  const h = useEtlHarness()

  const hourKey = (hour: number, part = 0) => `hourly/2025/08/17/${String(hour).padStart(2, '0')}/part-${part}.parquet`

  async function hoursOf(key: string): Promise<string[]> {
    const { rows } = await h.db.query<{ hour: string }>(
      `SELECT to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24') AS hour FROM ingest_coverage WHERE s3_object_key = $1 ORDER BY hour`, [key])
    return rows.map((r) => r.hour)
  }

  it('reports an hour missing in the middle as exactly that gap', async () => {
    for (const hour of [10, 11, 13, 14]) await h.putEvents(hourKey(hour), oneTwap(hour))
    expect(await h.run()).toMatchObject({ objectsOk: 4, objectsFailed: 0 })

    const coverage = await readCoverage(h.db, 'statuses')

    expect(coverage).toMatchObject({
      firstHour: '2025-08-17T10:00:00.000Z', lastHour: '2025-08-17T14:00:00.000Z',
      coveredHours: 4, missingHours: 1, complete: false, failed: [],
      gaps: [{ start: '2025-08-17T12:00:00.000Z', end: '2025-08-17T12:00:00.000Z', hours: 1 }],
    })
    expect(coverage.newestIngest?.key).toMatch(/part-0\.parquet$/)
  })

  it('counts the hours of a range before the first and after the last covered hour as missing', async () => {
    await h.putEvents(hourKey(10), oneTwap(1))
    await h.run()

    const coverage = await readCoverage(h.db, 'statuses', { startMs: at('2025-08-17T08:00:00Z'), endMs: at('2025-08-17T12:59:59.999Z') })

    expect(coverage.gaps).toEqual([
      { start: '2025-08-17T08:00:00.000Z', end: '2025-08-17T09:00:00.000Z', hours: 2 },
      { start: '2025-08-17T11:00:00.000Z', end: '2025-08-17T12:00:00.000Z', hours: 2 },
    ])
    expect(coverage).toMatchObject({ coveredHours: 1, missingHours: 4, complete: false })
  })

  it('answers a year with no data as incomplete, all of it missing', async () => {
    await h.putEvents(hourKey(10), oneTwap(1))
    await h.run()

    const coverage = await readCoverage(h.db, 'statuses', { startMs: at('2024-01-01T00:00:00Z'), endMs: at('2025-01-01T00:00:00Z') - 1 })

    expect(coverage).toMatchObject({ firstHour: null, lastHour: null, coveredHours: 0, missingHours: 366 * 24, complete: false })
    expect(coverage.gaps).toEqual([{ start: '2024-01-01T00:00:00.000Z', end: '2024-12-31T23:00:00.000Z', hours: 366 * 24 }])
  })

  it('shows a failed object until it succeeds', async () => {
    await h.putEvents(hourKey(10), oneTwap(1))
    const broken = h.putBytes(hourKey(11), 'these bytes are not a parquet file at all')
    await h.run()

    const failing = await readCoverage(h.db, 'statuses')
    expect(failing.failed).toEqual([{ key: broken, error: expect.stringContaining('not a parquet file'), at: expect.any(String) }])
    expect(failing).toMatchObject({ coveredHours: 1, complete: false })
    expect(await readCoverage(h.db, 'statuses')).toMatchObject({ failed: [{ key: broken }] })

    await h.putEvents(hourKey(11), oneTwap(2))
    expect(await h.run()).toMatchObject({ objectsOk: 1, objectsFailed: 0 })

    expect(await readCoverage(h.db, 'statuses')).toMatchObject({ failed: [], coveredHours: 2, missingHours: 0, complete: true })
  })

  it('takes the hours from the rows when the key names none, and replaces them when the object is rewritten', async () => {
    const events = oneTwap(3)
    const { key } = await h.putEvents('no-hour-in-this-name.parquet', events)
    await h.run()
    const times = events.map((e) => Date.parse(e.time + 'Z'))
    const first = Math.floor(Math.min(...times) / HOUR) * HOUR
    const last = Math.floor(Math.max(...times) / HOUR) * HOUR
    const expected = (from: number, to: number) => Array.from({ length: (to - from) / HOUR + 1 }, (_, i) => new Date(from + i * HOUR).toISOString().slice(0, 13))

    expect(await hoursOf(key)).toEqual(expected(first, last))

    const later = events.map((e) => ({ ...e, time: new Date(Date.parse(e.time + 'Z') + 48 * HOUR).toISOString().slice(0, -1) }))
    await h.putEvents('no-hour-in-this-name.parquet', later)
    await h.run()

    expect(await hoursOf(key)).toEqual(expected(first + 48 * HOUR, last + 48 * HOUR))
  })
})
