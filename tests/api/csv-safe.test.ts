import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'csv-parse/sync'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, twapEvent, WALLET, type TestApi } from '../support/api.ts'
import type { SourceFill } from '../support/lz4.ts'

const ZERO_HASH = '0x' + '0'.repeat(64)
const T = Date.parse('2025-03-14T09:26:53.589Z')
const FORMULA = /^[=+\-@\t\r]/

function fill(i: number, over: Partial<SourceFill>): [string, SourceFill] {
  return [WALLET, {
    coin: 'BTC', px: '84000.5', sz: '0.0125', side: 'B', time: T + i * 60_000, startPosition: '0.0', dir: 'Open Long',
    closedPnl: '0.0', hash: ZERO_HASH, oid: 1000n + BigInt(i), crossed: true, fee: '0.472503', tid: 2000n + BigInt(i),
    feeToken: 'USDC', twapId: 1_305_284n, ...over,
  }]
}

// A spot coin by index (`@107`), a negative PnL and fee, and a coin a spreadsheet would run as a formula.
const FILLS = [
  fill(0, { coin: '@107', side: 'A', dir: 'Sell', fee: '0.075716', twapId: 1_305_287n }),
  fill(1, { side: 'A', dir: 'Close Long', closedPnl: '-4.5', fee: '-0.0106425' }),
  fill(2, { coin: '=HYPERLINK("http://x")', twapId: 1_305_288n }),
]

// TWAPs in another year than the fills, so the TWAP tax formats (which refuse a range with fills) have a range of their own.
const EVENTS = [
  twapEvent({ twapId: '1', asset: '@107', ts: '2024-11-03T12:30:00Z', placedAt: '2024-11-03T12:00:00Z' }),
  twapEvent({ twapId: '2', asset: '=1+2', ts: '2024-11-03T13:30:00Z', placedAt: '2024-11-03T13:00:00Z', status: '+cmd' }),
  twapEvent({ twapId: '3', asset: 'SOL', ts: '2024-11-03T14:30:00Z', placedAt: '2024-11-03T14:00:00Z' }),
]

const FILL_RANGE = { start: '2025-01-01', end: '2025-12-31' }
const TWAP_RANGE = { start: '2024-01-01', end: '2024-12-31' }

/** Every cell of `safe` is the same cell of `plain`, with a `'` before it exactly when it starts as a formula would. */
function expectGuarded(plain: string, safe: string) {
  const a = parse(plain) as string[][]
  const b = parse(safe) as string[][]
  expect(b.length).toBe(a.length)
  expect(a.length).toBeGreaterThan(1)
  // The header is column names, never data.
  expect(b[0]).toEqual(a[0])
  let guarded = 0
  a.slice(1).forEach((row, i) => {
    expect(b[i + 1]!.length).toBe(row.length)
    row.forEach((cell, j) => {
      const out = b[i + 1]![j]!
      if (FORMULA.test(cell)) {
        guarded++
        expect(out).toBe(`'${cell}`)
      } else {
        expect(out).toBe(cell)
      }
      expect(out).not.toMatch(FORMULA)
    })
  })
  return guarded
}

describe(`Spreadsheet-safe CSV (csv_safe), on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
    await loadFills(api.store.db, FILLS)
    await loadEvents(api.store.db, EVENTS)
  })
  afterAll(() => api?.destroy())

  const get = (path: string, query: Record<string, string>) => api.app.inject(`${path}?${new URLSearchParams(query).toString()}`)
  const both = async (path: string, query: Record<string, string>) => {
    const plain = await get(path, query)
    const safe = await get(path, { ...query, csv_safe: 'true' })
    expect(plain.statusCode).toBe(200)
    expect(safe.statusCode).toBe(200)
    return { plain, safe }
  }

  it('TWAP CSV: @107, =1+2 and +cmd come out prefixed with csv_safe=true and as they are without; the ETag differs', async () => {
    const { plain, safe } = await both('/api/v1/twaps', { wallet: WALLET, ...TWAP_RANGE, format: 'csv' })
    const rows = parse(plain.body, { columns: true }) as Record<string, string>[]
    expect(rows.map((r) => r.asset).sort()).toEqual(['=1+2', '@107', 'SOL'])
    expect(rows.find((r) => r.asset === '=1+2')!.status).toBe('+cmd')
    const safeRows = parse(safe.body, { columns: true }) as Record<string, string>[]
    expect(safeRows.map((r) => r.asset).sort()).toEqual(["'=1+2", "'@107", 'SOL'])
    expect(safeRows.find((r) => r.asset === "'=1+2")!.status).toBe("'+cmd")
    expect(expectGuarded(plain.body, safe.body)).toBeGreaterThanOrEqual(3)
    expect(plain.headers.etag).toBeTruthy()
    expect(safe.headers.etag).not.toBe(plain.headers.etag)
    // Absent and false are the same request, so the same tag.
    expect((await get('/api/v1/twaps', { wallet: WALLET, ...TWAP_RANGE, format: 'csv', csv_safe: 'false' })).headers.etag).toBe(plain.headers.etag)
  })

  it('TWAP CSV with latest_per_twap=false and the TWAP tax formats (the spot coin @107) are guarded alike', async () => {
    const events = await both('/api/v1/twaps', { wallet: WALLET, ...TWAP_RANGE, format: 'csv', latest_per_twap: 'false' })
    expect(expectGuarded(events.plain.body, events.safe.body)).toBeGreaterThanOrEqual(3)
    for (const format of ['koinly', 'awaken', 'cointracker']) {
      const { plain, safe } = await both('/api/v1/twaps', { wallet: WALLET, ...TWAP_RANGE, format })
      expectGuarded(plain.body, safe.body)
      // Perp formats take the perp =1+2, spot formats the spot @107.
      expect(safe.body).toMatch(/'(?:@107|=1\+2),/)
    }
  })

  it('fill CSV: the coin @107, a formula coin and the negative PnL and fee are prefixed only with csv_safe=true', async () => {
    const { plain, safe } = await both('/api/v1/fills', { wallet: WALLET, ...FILL_RANGE, format: 'csv' })
    const rows = parse(plain.body, { columns: true }) as Record<string, string>[]
    expect(rows.map((r) => r.coin).sort()).toEqual(['=HYPERLINK("http://x")', '@107', 'BTC'])
    const closing = rows.find((r) => r.dir === 'Close Long')!
    expect(Number(closing.closed_pnl)).toBe(-4.5)
    const safeRows = parse(safe.body, { columns: true }) as Record<string, string>[]
    expect(safeRows.map((r) => r.coin).sort()).toEqual(["'=HYPERLINK(\"http://x\")", "'@107", 'BTC'])
    const safeClosing = safeRows.find((r) => r.dir === 'Close Long')!
    expect(safeClosing.closed_pnl).toBe(`'${closing.closed_pnl}`)
    expect(safeClosing.fee).toBe(`'${closing.fee}`)
    // Wallets and hashes start with 0x: left alone.
    expect(safeClosing.wallet).toBe(WALLET)
    expect(expectGuarded(plain.body, safe.body)).toBeGreaterThanOrEqual(4)
    expect(safe.headers.etag).not.toBe(plain.headers.etag)
  })

  it('fill tax formats are guarded alike', async () => {
    for (const format of ['awaken', 'awaken-spot', 'koinly', 'cointracker']) {
      const { plain, safe } = await both('/api/v1/fills', { wallet: WALLET, ...FILL_RANGE, format })
      expectGuarded(plain.body, safe.body)
    }
    const { safe } = await both('/api/v1/fills', { wallet: WALLET, ...FILL_RANGE, format: 'awaken' })
    expect(safe.body).toContain("'-4.5")
  })

  it('wallet summary CSV: the asset lines of @107 and of a formula coin are prefixed with csv_safe=true', async () => {
    const { plain, safe } = await both(`/api/v1/wallets/${WALLET}/summary`, { ...FILL_RANGE, format: 'csv' })
    const assets = (parse(plain.body, { columns: true }) as Record<string, string>[]).map((r) => r.asset)
    expect(assets).toContain('@107')
    const safeAssets = (parse(safe.body, { columns: true }) as Record<string, string>[]).map((r) => r.asset)
    expect(safeAssets).toContain("'@107")
    expect(safeAssets).toContain("'=HYPERLINK(\"http://x\")")
    expect(expectGuarded(plain.body, safe.body)).toBeGreaterThanOrEqual(2)
  })

  it('answers 422 naming csv_safe for a value other than true, false, 1 or 0', async () => {
    for (const path of ['/api/v1/twaps', '/api/v1/fills']) {
      const res = await get(path, { wallet: WALLET, ...FILL_RANGE, format: 'csv', csv_safe: 'yes' })
      expect(res.statusCode).toBe(422)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      expect(res.json().errors).toEqual([{ parameter: 'csv_safe', message: 'must be true, false, 1 or 0' }])
    }
    const summary = await get(`/api/v1/wallets/${WALLET}/summary`, { ...FILL_RANGE, format: 'csv', csv_safe: 'on' })
    expect(summary.statusCode).toBe(422)
    expect(summary.json().errors).toEqual([{ parameter: 'csv_safe', message: 'must be true, false, 1 or 0' }])
  })
})
