import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'csv-parse/sync'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, twapEvent, WALLET, OTHER_WALLET, type TestApi } from '../support/api.ts'
import type { SourceFill } from '../support/lz4.ts'

const ZERO_HASH = '0x' + '0'.repeat(64)
const T = Date.parse('2025-03-14T09:26:53.589Z')

/** The sample wallet's TWAP slices: two spot pairs (named and by index), three perps (one HIP-3), a maker rebate. */
function fill(i: number, over: Partial<SourceFill>): [string, SourceFill] {
  return [WALLET, {
    coin: 'BTC', px: '84000.5', sz: '0.0125', side: 'B', time: T + i * 60_000, startPosition: '0.0', dir: 'Open Long',
    closedPnl: '0.0', hash: ZERO_HASH, oid: 9_007_199_254_740_993n + BigInt(i), crossed: true, fee: '0.472503', tid: 18_446_744_073_709_551_000n + BigInt(i),
    feeToken: 'USDC', twapId: 1_305_284n, ...over,
  }]
}
const SAMPLE: [string, SourceFill][] = [
  fill(0, {}),
  fill(1, { px: '84210.0', side: 'A', dir: 'Close Long', closedPnl: '2.619375', fee: '0.473681', builderFee: '0.01' }),
  fill(2, { coin: 'xyz:NVDA', px: '118.25', sz: '3', side: 'B', dir: 'Close Short', closedPnl: '-4.5', fee: '-0.0106425', twapId: 1_305_285n }),
  fill(3, { coin: 'PURR/USDC', px: '0.21', sz: '1000', side: 'B', dir: 'Buy', fee: '0.7', feeToken: 'PURR', twapId: 1_305_286n }),
  fill(4, { coin: '@107', px: '17.305', sz: '12.5', side: 'A', dir: 'Sell', fee: '0.075716', twapId: 1_305_287n }),
  // Outside 2025, and another wallet's: in no export.
  fill(5, { time: Date.parse('2026-01-01T00:00:00Z') }),
  [OTHER_WALLET, fill(6, {})[1]],
]

const HEADERS = {
  awaken: 'Date,Asset,Amount,Fee,P&L,Payment Token,Notes,Transaction Hash,Tag',
  'awaken-spot': 'Date,Received Quantity,Received Currency,Received Fiat Amount,Sent Quantity,Sent Currency,Sent Fiat Amount,Fee Amount,Fee Currency,Transaction Hash,Notes,Tag',
  koinly: 'Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash',
  cointracker: 'Date,Received Quantity,Received Currency,Sent Quantity,Sent Currency,Fee Amount,Fee Currency,Tag',
} as const
type Format = keyof typeof HEADERS

const DATES: Record<Format, RegExp> = {
  awaken: /^\d{2}\/\d{2}\/2025 \d{2}:\d{2}:\d{2}$/,
  'awaken-spot': /^\d{2}\/\d{2}\/2025 \d{2}:\d{2}:\d{2}$/,
  koinly: /^2025-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
  cointracker: /^\d{2}\/\d{2}\/2025 \d{2}:\d{2}:\d{2}$/,
}

describe(`Tax platform exports of fills, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
    await loadFills(api.store.db, SAMPLE)
  })
  afterAll(() => api?.destroy())

  const get = (format: string, range = { start: '2025-01-01', end: '2025-12-31' }) =>
    api.app.inject(`/api/v1/fills?${new URLSearchParams({ wallet: WALLET, ...range, format }).toString()}`)

  for (const format of Object.keys(HEADERS) as Format[]) {
    it(`writes ${format}: the exact header, one line per fill it takes, the platform's UTC date, the hand-checked expected file`, async () => {
      const res = await get(format)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-type']).toMatch(/^text\/csv/)
      // The fixtures cover a few hours of the year, so the file says it is not the whole year.
      expect(res.headers['content-disposition']).toBe(`attachment; filename="fills_${WALLET}_20250101_20251231_${format}_incomplete.csv"`)
      expect(res.headers['x-coverage-complete']).toBe('false')
      expect(res.body.split('\n')[0]).toBe(HEADERS[format])
      const records = parse(res.body, { columns: true }) as Record<string, string>[]
      const spot = format === 'awaken-spot' ? 2 : format === 'awaken' ? 3 : 5
      expect(records).toHaveLength(spot)
      for (const r of records) expect(r.Date).toMatch(DATES[format])
      expect(res.body).toBe(await readFile(new URL(`expected/fills-${format}.csv`, import.meta.url), 'utf8'))
    })
  }

  it('writes every amount as the stored decimal, and the synthetic id hl-twap:<tid>:<oid> for slices with an all-zero hash', async () => {
    const { rows } = await api.store.db.query<{ tid: string; oid: string; sz: string; fee: string; closed_pnl: string; notional: string }>(
      `SELECT tid, oid, sz::text AS sz, fee::text AS fee, closed_pnl::text AS closed_pnl, (px * sz)::text AS notional
         FROM twap_fill WHERE wallet = $1 AND time < '2026-01-01'`, [WALLET])
    const byId = new Map(rows.map((r) => [`hl-twap:${r.tid}:${r.oid}`, r]))
    const same = (a: string, b: string) => api.store.db.query<{ ok: boolean }>('SELECT $1::numeric = $2::numeric AS ok', [a, b]).then((r) => r.rows[0]!.ok)

    const perps = parse((await get('awaken')).body, { columns: true }) as Record<string, string>[]
    for (const r of perps) {
      const stored = byId.get(r['Transaction Hash']!)!
      expect(await same(r.Amount!, stored.sz)).toBe(true)
      expect(await same(r.Fee!, stored.fee)).toBe(true)
      expect(await same(r['P&L']!, stored.closed_pnl)).toBe(true)
      expect(r.Notes).toContain(`tid ${stored.tid}`)
    }
    const koinly = parse((await get('koinly')).body, { columns: true }) as Record<string, string>[]
    const spotBuy = koinly.find((r) => r['Received Currency'] === 'PURR')!
    expect(await same(spotBuy['Sent Amount']!, byId.get(spotBuy.TxHash!)!.notional)).toBe(true)
    expect(new Set(koinly.map((r) => r.TxHash)).size).toBe(5)
  })

  it('answers the header row alone for a range with nothing in it', async () => {
    for (const format of Object.keys(HEADERS) as Format[]) {
      const res = await get(format, { start: '2024-01-01', end: '2024-12-31' })
      expect(res.body).toBe(HEADERS[format] + '\n')
    }
  })

  it('rejects an unknown format with a 422 listing the formats', async () => {
    const res = await get('turbotax')
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([{ parameter: 'format', message: 'must be one of json, csv, ndjson, awaken, awaken-spot, koinly, cointracker' }])
  })
})

describe(`Tax platform exports of TWAPs without fills, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '21', ts: '2025-06-01T10:00:00Z', asset: 'PURR/USDC', side: 'B', sizeExecuted: '1000.0', notionalExecuted: '212.5' }),
      twapEvent({ twapId: '22', ts: '2025-06-02T10:00:00Z', asset: 'BTC', side: 'A', sizeExecuted: '0.5', notionalExecuted: '52000.25', reduceOnly: true }),
      twapEvent({ twapId: '23', ts: '2025-06-03T10:00:00Z', asset: '@107', side: 'A', sizeExecuted: '0.0', notionalExecuted: '0.0', status: 'terminated' }),
    ])
  })
  afterAll(() => api?.destroy())

  const get = (format: string) => api.app.inject(`/api/v1/twaps?${new URLSearchParams({ wallet: WALLET, start: '2025-01-01', end: '2025-12-31', format }).toString()}`)

  for (const format of Object.keys(HEADERS) as Format[]) {
    it(`writes ${format} with one trade per executed TWAP at its average price, noted as aggregated, as the hand-checked expected file`, async () => {
      const res = await get(format)
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20250101_20251231_${format}_incomplete.csv"`)
      expect(res.headers['x-coverage-complete']).toBe('false')
      expect(res.body.split('\n')[0]).toBe(HEADERS[format])
      const records = parse(res.body, { columns: true }) as Record<string, string>[]
      // Nothing executed of TWAP 23; the BTC perp has no PnL to give Koinly or CoinTracker.
      expect(records).toHaveLength(1)
      for (const r of records) expect(r.Date).toMatch(DATES[format])
      expect(res.body).toBe(await readFile(new URL(`expected/twaps-${format}.csv`, import.meta.url), 'utf8'))
    })
  }

  it('refuses a tax format on TWAPs for a range whose fills are loaded, pointing to the fills export', async () => {
    await loadFills(api.store.db, [fill(0, {})])
    const res = await get('koinly')
    expect(res.statusCode).toBe(422)
    expect(res.json().errors).toEqual([{ parameter: 'format', message: 'fills are loaded for this range: export them with /api/v1/fills?format=koinly' }])
  })
})
