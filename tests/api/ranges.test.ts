import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseTimeRange, rangeFilePart } from '#src/api/range.ts'
import { EVENT_CSV_COLUMNS } from '#src/api/twap-json.ts'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, twapEvent, twapsUrl, type TestApi } from '../support/api.ts'

describe('the time range of start and end', () => {
  const range = (start: string, end: string) => {
    const { range } = parseTimeRange({ start, end })
    return range && { start: range.start, end: range.end, file: rangeFilePart(range) }
  }
  const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n

  it('reads a bare date as end as that whole day, up to the next midnight UTC', () => {
    expect(range('2025-11-28', '2025-11-28')).toEqual({
      start: micros('2025-11-28T00:00:00Z'), end: micros('2025-11-29T00:00:00Z') - 1n, file: '20251128_20251128',
    })
  })

  it('keeps an end with a time inclusive as written, and names its time in the filename', () => {
    expect(range('2025-11-01', '2025-11-28T00:00:00Z')).toEqual({ start: micros('2025-11-01T00:00:00Z'), end: micros('2025-11-28T00:00:00Z'), file: '20251101_20251128T000000Z' })
    expect(range('2025-11-01T06:30:00Z', '2025-11-28T12:00:00.5+01:00')?.file).toBe('20251101T063000Z_20251128T110000.5Z')
  })

  it('makes back-to-back years meet without overlap or gap', () => {
    const y2025 = range('2025-01-01', '2025-12-31')!
    const y2026 = range('2026-01-01', '2026-12-31')!
    expect(y2026.start - y2025.end).toBe(1n)
  })

  it('refuses a start after the end, a bare date end counting as its whole day', () => {
    expect(parseTimeRange({ start: '2025-11-28T23:59:59.999999Z', end: '2025-11-28' }).errors).toEqual([])
    expect(parseTimeRange({ start: '2025-11-29', end: '2025-11-28' }).errors.map((e) => e.parameter)).toEqual(['start', 'end'])
  })
})

describe(`every endpoint and export reads ranges the same way, on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      // Two TWAPs on 28 November, one on the 27th, one on 29th at midnight, and the last
      // microsecond of 31 December.
      twapEvent({ twapId: '1', ts: '2025-11-28T09:00:00Z', placedAt: '2025-11-28T08:30:00Z' }),
      twapEvent({ twapId: '2', ts: '2025-11-28T23:59:59.999999Z', placedAt: '2025-11-28T23:00:00Z' }),
      twapEvent({ twapId: '3', ts: '2025-11-27T12:00:00Z', placedAt: '2025-11-27T11:30:00Z' }),
      twapEvent({ twapId: '4', ts: '2025-11-29T00:00:00Z', placedAt: '2025-11-28T23:30:00Z' }),
      twapEvent({ twapId: '5', ts: '2025-12-31T23:59:59.999999Z', placedAt: '2025-12-31T23:30:00Z' }),
      twapEvent({ twapId: '6', ts: '2026-01-01T00:00:00Z', placedAt: '2025-12-31T23:40:00Z' }),
    ])
  })
  afterAll(() => api?.destroy())

  const ids = async (query: Record<string, string | boolean>) => {
    const res = await api.app.inject(twapsUrl({ wallet: WALLET, ...query }))
    expect(res.statusCode, res.body).toBe(200)
    return res
  }
  const jsonIds = async (query: Record<string, string | boolean>) => (await ids(query)).json<{ twaps: { twap_id: string }[] }>().twaps.map((t) => t.twap_id).sort()

  it('a JSON page of one bare day holds the TWAPs of that day, and says the range it served', async () => {
    const res = await ids({ start: '2025-11-28', end: '2025-11-28' })
    expect(res.json()).toMatchObject({ start: '2025-11-28T00:00:00Z', end: '2025-11-28T23:59:59.999999Z' })
    expect(await jsonIds({ start: '2025-11-28', end: '2025-11-28' })).toEqual(['1', '2'])
  })

  it('an end with a time includes an event exactly then and nothing after', async () => {
    expect(await jsonIds({ start: '2025-11-28', end: '2025-11-29T00:00:00Z' })).toEqual(['1', '2', '4'])
    expect(await jsonIds({ start: '2025-11-28', end: '2025-11-28T09:00:00Z' })).toEqual(['1'])
  })

  it('a tax year written with bare dates has all of 31 December, and the next year none of it', async () => {
    expect(await jsonIds({ start: '2025-01-01', end: '2025-12-31' })).toEqual(['1', '2', '3', '4', '5'])
    expect(await jsonIds({ start: '2026-01-01', end: '2026-12-31' })).toEqual(['6'])
  })

  it('the events of each TWAP (latest_per_twap=false) follow the same range', async () => {
    const page = (await ids({ start: '2025-11-28', end: '2025-11-28', latest_per_twap: false })).json<{ twaps: { twap_id: string; events: unknown[] }[] }>()
    expect(page.twaps.map((t) => [t.twap_id, t.events.length]).sort()).toEqual([['1', 1], ['2', 1]])
  })

  it('CSV and NDJSON exports of a bare day hold that day, and their filenames name the day served', async () => {
    for (const format of ['csv', 'ndjson'] as const) {
      const res = await ids({ start: '2025-11-28', end: '2025-11-28', format })
      expect(res.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20251128_20251128.${format}"`)
      const lines = res.body.trimEnd().split('\n')
      const twapIds = format === 'csv' ? lines.slice(1).map((l) => l.split(',')[0]) : lines.map((l) => (JSON.parse(l) as { twap_id: string }).twap_id)
      expect(twapIds.sort(), format).toEqual(['1', '2'])
    }
    const timed = await ids({ start: '2025-11-28', end: '2025-11-29T00:00:00Z', format: 'csv' })
    expect(timed.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20251128_20251129T000000Z.csv"`)
  })

  it('the CSV of events (latest_per_twap=false) follows the same range', async () => {
    const res = await ids({ start: '2025-12-31', end: '2025-12-31', format: 'csv', latest_per_twap: false })
    const lines = res.body.trimEnd().split('\n')
    expect(lines[0]).toBe(EVENT_CSV_COLUMNS.join(','))
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['5'])
  })
})
