import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, twapLifecycle, twapsUrl, WALLET, type TestApi } from '../support/api.ts'
import type { SourceFill } from '../support/lz4.ts'

let tids = 1000n
function slice(twapId: string, time: string, px: string, sz: string): [string, SourceFill] {
  const tid = tids++
  return [WALLET, {
    coin: 'SOL', px, sz, side: 'B', time: Date.parse(time), startPosition: '0.0', dir: 'Open Long', closedPnl: '0.0',
    hash: '0x' + '0'.repeat(64), oid: tid + 5_000n, crossed: true, fee: '0.01', tid, feeToken: 'USDC', twapId: BigInt(twapId),
  }]
}

const fillsKey = (hour: number) => `node_fills_by_block/hourly/20251103/${hour}.lz4`
const statusKey = (hour: number) => `hourly/2025/11/03/${hour}/part-0.parquet`

describe(`TWAPs reconciled with their fills, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi() })
  afterAll(() => api?.destroy())

  async function verdicts(): Promise<Record<string, boolean | null>> {
    const res = await api.app.inject(twapsUrl({ wallet: WALLET, start: '2025-11-03', end: '2025-11-03' }))
    expect(res.statusCode, res.body).toBe(200)
    return Object.fromEntries(res.json<{ twaps: { twap_id: string; reconciled: boolean | null }[] }>().twaps.map((t) => [t.twap_id, t.reconciled]))
  }

  it('reconciles fills loaded before their statuses once the statuses arrive, and finds a TWAP whose fills fall short', async () => {
    // Both TWAPs say 100 executed for 9050 (twapLifecycle): the first's slices add up, the second's miss 10.
    await loadFills(api.store.db, [
      slice('1', '2025-11-03T10:05:00Z', '90.5', '60.0'), slice('1', '2025-11-03T10:20:00Z', '90.5', '40.0'),
      slice('2', '2025-11-03T10:05:00Z', '90.5', '90.0'),
    ], fillsKey(10))
    await loadEvents(api.store.db, [...twapLifecycle('1', '2025-11-03T10:00:00Z'), ...twapLifecycle('2', '2025-11-03T10:00:00Z')], statusKey(10))

    expect(await verdicts()).toMatchObject({ 1: true, 2: false })
    const { rows } = await api.store.db.query<{ filled_size: string; executed_size: string }>(
      `SELECT filled_size::text, executed_size::text FROM twap_reconciliation WHERE twap_id = '2'`)
    expect(rows).toEqual([{ filled_size: '90.0', executed_size: '100.0' }])
  })

  it('leaves a TWAP undecided until fills cover its life, then decides it', async () => {
    await loadEvents(api.store.db, twapLifecycle('3', '2025-11-03T11:00:00Z'), statusKey(11))
    expect((await verdicts())['3']).toBeNull()

    await loadFills(api.store.db, [slice('3', '2025-11-03T11:10:00Z', '90.5', '100.0')], fillsKey(11))

    expect((await verdicts())['3']).toBe(true)
  })

  it('shows the verdict as the last column of the CSV export', async () => {
    const res = await api.app.inject(twapsUrl({ wallet: WALLET, start: '2025-11-03', end: '2025-11-03', format: 'csv' }))
    const lines = res.body.trim().split('\n')
    expect(lines[0]).toMatch(/,reconciled$/)
    const cells = Object.fromEntries(lines.slice(1).map((l) => [l.split(',')[0], l.split(',').at(-1)]))
    expect(cells).toEqual({ 1: 'true', 2: 'false', 3: 'true' })
  })
})
