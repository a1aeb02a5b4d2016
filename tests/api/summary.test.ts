import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'csv-parse/sync'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, twapEvent, twapLifecycle, WALLET, OTHER_WALLET, type TestApi } from '../support/api.ts'
import { makeFills } from '../support/lz4.ts'

const T0 = Date.parse('2025-10-27T06:00:00Z')
const RANGE = { start: '2025-10-01', end: '2025-10-31' }

interface Summary {
  assets: { asset: string; side: string; twaps: { count: number; by_status: { status: string; count: number }[]; size: string; notional: string; avg_price: string | null }; fills: { count: number; fees: { token: string; amount: string }[]; builder_fee: string; closed_pnl: string } }[]
  totals: { twaps: { count: number; by_status: { status: string; count: number }[]; notional: string }; fills: { count: number; fees: { token: string; amount: string }[]; builder_fee: string; closed_pnl: string } }
}

describe(`A wallet's summary, on ${engine}`, () => {
  let api: TestApi
  const fills = makeFills({ wallets: [WALLET, OTHER_WALLET], count: 400, twapShare: 0.5, twapIds: [11n, 12n], seed: 7, start: T0 })
    .map(([w, f], i): [string, typeof f] => [w, i % 5 === 0 ? { ...f, feeToken: 'HYPE', builderFee: '0.0125' } : f])

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      ...twapLifecycle('11', '2025-10-27T05:00:00Z'),
      ...twapLifecycle('12', '2025-10-28T05:00:00Z', { asset: 'HYPE' }),
      twapEvent({ twapId: '13', ts: '2025-10-29T05:00:00Z', status: 'activated', sizeExecuted: '3.5', notionalExecuted: '140.35', asset: 'HYPE', side: 'A' }),
      twapEvent({ twapId: '14', ts: '2025-10-29T06:00:00Z', status: 'terminated', sizeExecuted: '1.25', notionalExecuted: '50.1', asset: 'HYPE', side: 'A' }),
      // Outside the range, and another wallet's: in no sum.
      twapEvent({ twapId: '15', ts: '2025-11-02T06:00:00Z', asset: 'HYPE' }),
      twapEvent({ twapId: '16', ts: '2025-10-29T06:00:00Z', wallet: OTHER_WALLET }),
    ])
    await loadFills(api.store.db, fills)
  })
  afterAll(() => api?.destroy())

  const url = (query: Record<string, string>) => `/api/v1/wallets/${WALLET.toUpperCase().replace('0X', '0x')}/summary?` + new URLSearchParams({ ...RANGE, ...query }).toString()

  it('sums TWAPs by latest status and fills by asset and side, with totals equal to sums computed apart in SQL', async () => {
    const res = await api.app.inject(url({}))
    expect(res.statusCode).toBe(200)
    const body = res.json<Summary>()

    const hypeSell = body.assets.find((a) => a.asset === 'HYPE' && a.side === 'A')!
    expect(hypeSell.twaps).toEqual({ count: 2, by_status: [{ status: 'activated', count: 1 }, { status: 'terminated', count: 1 }], size: '4.75', notional: '190.45', avg_price: '40.0947368421052632' })
    expect(body.totals.twaps).toEqual({ count: 4, by_status: [{ status: 'activated', count: 1 }, { status: 'finished', count: 2 }, { status: 'terminated', count: 1 }], notional: '18290.45' })

    const db = api.store.db
    const { rows: [sums] } = await db.query<{ count: number; builder_fee: string; closed_pnl: string }>(
      `SELECT count(*)::int AS count, sum(builder_fee)::text AS builder_fee, sum(closed_pnl)::text AS closed_pnl
         FROM twap_fill WHERE wallet = $1 AND time >= '2025-10-01' AND time < '2025-11-01'`, [WALLET])
    const { rows: fees } = await db.query<{ token: string; ok: boolean }>(
      `SELECT fee_token AS token, sum(fee) = $2::numeric AS ok FROM twap_fill WHERE wallet = $1 AND fee_token = $3 GROUP BY fee_token`,
      [WALLET, body.totals.fills.fees.find((f) => f.token === 'HYPE')!.amount, 'HYPE'])
    expect(body.totals.fills.count).toBe(sums!.count)
    expect(body.totals.fills.count).toBe(fills.filter(([w, f]) => w === WALLET && f.twapId !== null).length)
    expect(Number(body.totals.fills.builder_fee)).toBeGreaterThan(0)
    const { rows: [equal] } = await db.query<{ builder: boolean; pnl: boolean }>('SELECT $1::numeric = $2::numeric AS builder, $3::numeric = $4::numeric AS pnl',
      [body.totals.fills.builder_fee, sums!.builder_fee, body.totals.fills.closed_pnl, sums!.closed_pnl])
    expect(equal).toEqual({ builder: true, pnl: true })
    expect(fees).toEqual([{ token: 'HYPE', ok: true }])
    expect(body.totals.fills.fees.map((f) => f.token)).toEqual(['HYPE', 'USDC'])

    // The per-asset lines add up to the totals.
    const fillCount = body.assets.reduce((n, a) => n + a.fills.count, 0)
    const twapCount = body.assets.reduce((n, a) => n + a.twaps.count, 0)
    expect([fillCount, twapCount]).toEqual([body.totals.fills.count, body.totals.twaps.count])
    const { rows: [added] } = await db.query<{ ok: boolean }>('SELECT (SELECT sum(x::numeric) FROM unnest($1::text[]) x) = $2::numeric AS ok',
      [body.assets.map((a) => a.fills.closed_pnl), body.totals.fills.closed_pnl])
    expect(added!.ok).toBe(true)
  })

  it('narrows to one asset, and answers zeros for a wallet with nothing in range', async () => {
    const hype = (await api.app.inject(url({ asset: 'HYPE' }))).json<Summary>()
    expect(new Set(hype.assets.map((a) => a.asset))).toEqual(new Set(['HYPE']))
    expect(hype.totals.twaps.count).toBe(3)
    const empty = (await api.app.inject(url({ start: '2024-01-01', end: '2024-12-31' }))).json<Summary>()
    expect(empty.assets).toEqual([])
    expect(empty.totals).toEqual({ twaps: { count: 0, by_status: [], notional: '0' }, fills: { count: 0, fees: [], builder_fee: '0', closed_pnl: '0' } })
  })

  it('answers CSV with format=csv: one line per asset and side, then the totals', async () => {
    const json = (await api.app.inject(url({}))).json<Summary>()
    const res = await api.app.inject(url({ format: 'csv' }))
    expect(res.headers['content-type']).toMatch(/^text\/csv/)
    // The fixtures hold a few hours of October, so the month's file says it is incomplete.
    expect(res.headers['content-disposition']).toBe(`attachment; filename="summary_${WALLET}_20251001_20251031_incomplete.csv"`)
    expect(res.headers['x-coverage-complete']).toBe('false')
    const records = parse(res.body, { columns: true }) as Record<string, string>[]
    expect(records).toHaveLength(json.assets.length + 1)
    expect(records.at(-1)).toMatchObject({ row: 'total', twaps: '4', executed_notional: '18290.45', fills: String(json.totals.fills.count), closed_pnl: json.totals.fills.closed_pnl })
  })

  it('rejects an unknown format, a bad wallet and an inverted range with 422 naming each', async () => {
    const bad = await api.app.inject(url({ format: 'xlsx' }))
    expect(bad.statusCode).toBe(422)
    expect(bad.json().errors).toEqual([{ parameter: 'format', message: 'must be json or csv' }])
    expect((await api.app.inject(`/api/v1/wallets/0x12/summary?start=2025-01-01&end=2025-01-02`)).statusCode).toBe(422)
    const inverted = await api.app.inject(url({ start: '2025-12-01', end: '2025-01-01' }))
    expect(inverted.json().errors.map((e: { parameter: string }) => e.parameter)).toEqual(['start', 'end'])
  })
})
