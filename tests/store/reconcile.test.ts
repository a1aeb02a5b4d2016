import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations, migrate } from '#src/store/migrate.ts'
import { createTestApi, loadEvents, loadFills, twapEvent, WALLET, type TestApi } from '../support/api.ts'
import { engine } from '../support/db.ts'
import type { SourceFill } from '../support/lz4.ts'

let tids = 50_000n
function slice(twapId: string, time: string, px: string, sz: string): [string, SourceFill] {
  const tid = tids++
  return [WALLET, {
    coin: 'SOL', px, sz, side: 'B', time: Date.parse(time), startPosition: '0.0', dir: 'Open Long', closedPnl: '0.0',
    hash: '0x' + '0'.repeat(64), oid: tid + 5_000n, crossed: true, fee: '0.01', tid, feeToken: 'USDC', twapId: BigInt(twapId),
  }]
}

/** A TWAP placed at 10:00 on 2025-11-03 and finished at 10:30, having executed `size` for `notional`. */
function finishedTwap(twapId: string, size: string, notional: string) {
  const common = { twapId, placedAt: '2025-11-03T10:00:00Z', durationMinutes: 30 }
  return [
    twapEvent({ ...common, ts: '2025-11-03T10:00:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
    twapEvent({ ...common, ts: '2025-11-03T10:30:00Z', status: 'finished', sizeExecuted: size, notionalExecuted: notional }),
  ]
}

const FILLS_KEY = 'node_fills_by_block/hourly/20251103/10.lz4'
const STATUS_KEY = 'hourly/2025/11/03/10/part-0.parquet'

/**
 * TWAPs shaped like the source's: prices of 5 significant digits, sizes of 0 to 5 decimals,
 * 1 to 400 slices, and the status's executed size and notional summed the way a node does,
 * in float64, printed in their shortest form with a `.0` on whole numbers (`"0.0"`, `"108.36"`).
 * Returns per TWAP the two figures as stated and the fills' exact decimals.
 */
function sourceShapedTwaps(count: number, seed: number) {
  let state = seed
  const random = () => (state = (state * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
  const shortest = (x: number) => { const s = String(x); return s.includes('.') ? s : `${s}.0` }
  return Array.from({ length: count }, () => {
    const slices = 1 + Math.floor(random() ** 2 * 400)
    const decimals = Math.floor(random() * 6)
    const price = (1 + random() * 9) * 10 ** (Math.floor(random() * 9) - 3)
    const fills: { px: string; sz: string }[] = []
    let size = 0
    let notional = 0
    for (let i = 0; i < slices; i++) {
      const px = shortest(Number((price * (1 + (random() - 0.5) * 0.01)).toPrecision(5)))
      const sz = ((Math.floor(random() * 10 ** (decimals + 2)) + 1) / 10 ** decimals).toFixed(decimals)
      fills.push({ px, sz })
      size += Number(sz)
      notional += Number(px) * Number(sz)
    }
    return { size: shortest(size), notional: shortest(notional), fills, lot: (1 / 10 ** decimals).toFixed(decimals) }
  })
}

describe(`the reconciliation rule, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi() })
  afterAll(() => api?.destroy())

  async function agrees(stated: string, summed: string, fills: number): Promise<boolean> {
    const { rows: [row] } = await api.store.db.query<{ ok: boolean }>('SELECT twap_figure_agrees($1::numeric, $2::numeric, $3::int) AS ok', [stated, summed, fills])
    return row!.ok
  }

  it('accepts a difference of exactly half a unit in the last place the status shows, and not a hair more', async () => {
    expect(await agrees('9050.0', '9050.05', 2)).toBe(true)
    expect(await agrees('9050.0', '9049.95', 2)).toBe(true)
    expect(await agrees('9050.0', '9050.0500001', 2)).toBe(false)
    expect(await agrees('9050.0', '9049.9499999', 2)).toBe(false)
    expect(await agrees('100', '100.5', 1)).toBe(true)
    expect(await agrees('100', '100.51', 1)).toBe(false)
    expect(await agrees('0.0', '0', 0)).toBe(true)
  })

  it('accepts float64 noise up to (fills + 3) × 2^-53 of the sum, and not beyond', async () => {
    // 48.334 × 1.87 = 90.38458 exactly; in float64 it prints 90.38458000000001. With one fill
    // the bound is 4 × 90.38458 / 2^53 = 4.01e-14; half a unit of the 14th place is 5e-15.
    expect(48.334 * 1.87).toBe(90.38458000000001)
    expect(await agrees('90.38458000000001', '90.38458', 1)).toBe(true)
    expect(await agrees('90.38458000000004', '90.38458', 1)).toBe(true)
    expect(await agrees('90.384580000000041', '90.38458', 1)).toBe(false)
    // The bound grows with the fills summed: 100 fills allow 103 × 2^-53 of the sum.
    expect(await agrees('90.38458000000101', '90.38458', 100)).toBe(true)
    expect(await agrees('90.38458000000101', '90.38458', 1)).toBe(false)
  })

  it('agrees with every figure of source-shaped TWAPs that rounding to the status\'s decimals rejects, and rejects them a lot short', async () => {
    const twaps = sourceShapedTwaps(500, 7)
    const stated: string[] = []
    const fillsPx: string[] = []
    const fillsSz: string[] = []
    const owner: number[] = []
    const lots: string[] = []
    twaps.forEach((t, i) => {
      stated.push(t.size, t.notional)
      lots.push(t.lot)
      for (const f of t.fills) { fillsPx.push(f.px); fillsSz.push(f.sz); owner.push(i) }
    })
    // Σ sz and Σ px·sz in NUMERIC per TWAP; then the rule, the rounding rule it replaces, and
    // the rule against the size one lot short (a slice short by the smallest step it can be).
    const { rows: [m] } = await api.store.db.query<{ figures: number; inexact: number; rounding_rejects: number; rule_rejects: number; short_accepted: number }>(`
      WITH f AS (SELECT * FROM unnest($1::numeric[], $2::numeric[], $3::int[]) AS f(px, sz, twap)),
      sums AS (SELECT twap, sum(sz) AS size, sum(px * sz) AS notional, count(*)::int AS n FROM f GROUP BY twap),
      stated AS (SELECT (o - 1) / 2 AS twap, (o - 1) % 2 AS figure, v FROM unnest($4::numeric[]) WITH ORDINALITY AS s(v, o)),
      lots AS (SELECT o - 1 AS twap, v AS lot FROM unnest($5::numeric[]) WITH ORDINALITY AS l(v, o)),
      t AS (SELECT s.*, z.v AS stated_size, y.v AS stated_notional, l.lot FROM sums s
              JOIN stated z ON z.twap = s.twap AND z.figure = 0
              JOIN stated y ON y.twap = s.twap AND y.figure = 1
              JOIN lots l ON l.twap = s.twap),
      figures AS (
        SELECT stated_size AS stated, size AS summed, n, size - lot AS short FROM t
        UNION ALL SELECT stated_notional, notional, n, NULL FROM t)
      SELECT count(*)::int AS figures,
             count(*) FILTER (WHERE stated <> summed)::int AS inexact,
             count(*) FILTER (WHERE round(summed, scale(stated)) <> stated)::int AS rounding_rejects,
             count(*) FILTER (WHERE NOT twap_figure_agrees(stated, summed, n))::int AS rule_rejects,
             count(*) FILTER (WHERE short IS NOT NULL AND twap_figure_agrees(stated, short, n))::int AS short_accepted
        FROM figures`, [fillsPx, fillsSz, owner, stated, lots])

    expect(m!.figures).toBe(1_000)
    expect(m!.inexact).toBeGreaterThan(250)
    expect(m!.rounding_rejects).toBe(m!.inexact)
    expect(m!.rule_rejects).toBe(0)
    expect(m!.short_accepted).toBe(0)
  })

  it('reconciles a TWAP through the ingest at exactly the tolerance, and not one just over it', async () => {
    // 100 × 90.5005 = 9050.05, half a unit of "9050.0" from it; 9050.0501 is over.
    await loadEvents(api.store.db, [...finishedTwap('11', '100.0', '9050.0'), ...finishedTwap('12', '100.0', '9050.0')], STATUS_KEY)
    await loadFills(api.store.db, [
      slice('11', '2025-11-03T10:05:00Z', '90.5005', '60.0'), slice('11', '2025-11-03T10:20:00Z', '90.5005', '40.0'),
      slice('12', '2025-11-03T10:05:00Z', '90.500501', '100.0'),
    ], FILLS_KEY)

    const { rows } = await api.store.db.query<{ twap_id: string; reconciled: boolean | null; filled_notional: string }>(
      `SELECT twap_id, reconciled, filled_notional::text FROM twap_reconciliation WHERE twap_id IN ('11', '12') ORDER BY twap_id`)
    expect(rows).toEqual([
      { twap_id: '11', reconciled: true, filled_notional: '9050.05000' },
      { twap_id: '12', reconciled: false, filled_notional: '9050.0501000' },
    ])
  })
})

describe(`TWAPs that executed nothing, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi() })
  afterAll(() => api?.destroy())

  it('reconcile without fills coverage when no fill is stored, and fail when one is', async () => {
    const at = (hour: number) => (e: ReturnType<typeof twapEvent>) => ({ ...e, placedAt: `2025-11-03T${hour}:00:00Z`, ts: e.ts.replace('T10:', `T${hour}:`) })
    await loadEvents(api.store.db, [
      ...finishedTwap('41', '0.0', '0.0').map(at(20)),
      ...finishedTwap('42', '0.0', '0.0').map(at(21)),
      ...finishedTwap('43', '100.0', '9050.0').map(at(20)),
    ], 'hourly/2025/11/03/20/part-0.parquet')
    // A fill of TWAP 42 in an object of another hour: hours 20 and 21 stay without fills.
    await loadFills(api.store.db, [slice('42', '2025-11-03T21:05:00Z', '90.5', '1.0')], FILLS_KEY)

    const { rows } = await api.store.db.query<{ twap_id: string; reconciled: boolean | null }>(
      `SELECT twap_id, reconciled FROM twap_reconciliation WHERE twap_id IN ('41', '42', '43') ORDER BY twap_id`)
    expect(rows).toEqual([{ twap_id: '41', reconciled: true }, { twap_id: '42', reconciled: false }, { twap_id: '43', reconciled: null }])
  })
})

describe(`TWAPs judged again when their data changes, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi() })
  afterAll(() => api?.destroy())

  async function verdicts(): Promise<Record<string, boolean | null>> {
    const { rows } = await api.store.db.query<{ twap_id: string; reconciled: boolean | null }>('SELECT twap_id, reconciled FROM twap_reconciliation ORDER BY twap_id')
    return Object.fromEntries(rows.map((r) => [r.twap_id, r.reconciled]))
  }

  it('judges again the TWAPs whose fills a rewritten object drops or changes, statuses loaded first', async () => {
    await loadEvents(api.store.db, [...finishedTwap('21', '100.0', '9050.0'), ...finishedTwap('22', '100.0', '9050.0')], STATUS_KEY)
    const a = slice('21', '2025-11-03T10:05:00Z', '90.5', '100.0')
    const b = slice('22', '2025-11-03T10:05:00Z', '90.5', '100.0')
    await loadFills(api.store.db, [a, b], FILLS_KEY)
    expect(await verdicts()).toEqual({ 21: true, 22: true })

    // The rewrite drops TWAP 21's only fill and shortens TWAP 22's.
    await loadFills(api.store.db, [[b[0], { ...b[1], sz: '99.0' }]], FILLS_KEY)
    expect(await verdicts()).toEqual({ 21: false, 22: false })

    // Put back as it was, both reconcile again.
    await loadFills(api.store.db, [a, b], FILLS_KEY)
    expect(await verdicts()).toEqual({ 21: true, 22: true })
  })

  it('judges again a TWAP whose status a rewritten object changes, fills loaded first', async () => {
    const fillsKey = 'node_fills_by_block/hourly/20251103/11.lz4'
    const statusKey = 'hourly/2025/11/03/11/part-0.parquet'
    const at11 = (e: ReturnType<typeof twapEvent>) => ({ ...e, placedAt: '2025-11-03T11:00:00Z', ts: e.ts.replace('T10:', 'T11:') })
    await loadFills(api.store.db, [slice('23', '2025-11-03T11:05:00Z', '90.5', '100.0')], fillsKey)
    await loadEvents(api.store.db, finishedTwap('23', '100.0', '9050.0').map(at11), statusKey)
    expect((await verdicts())['23']).toBe(true)

    await loadEvents(api.store.db, finishedTwap('23', '120.0', '10860.0').map(at11), statusKey)
    expect((await verdicts())['23']).toBe(false)

    // A rewrite without the TWAP at all: its verdict goes with its events.
    await loadEvents(api.store.db, finishedTwap('24', '0.0', '0.0').map(at11), statusKey)
    const after = await verdicts()
    expect(after).not.toHaveProperty('23')
    expect(after['24']).toBe(true)
  })
})

describe(`TWAPs stored before verdicts were kept, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi() })
  afterAll(() => api?.destroy())

  it('are judged by the migration, as the ingest would have', async () => {
    const db = api.store.db
    await loadEvents(db, [...finishedTwap('31', '100.0', '9050.0'), ...finishedTwap('32', '100.0', '9050.0'),
      twapEvent({ twapId: '33', ts: '2025-11-03T10:00:00Z', placedAt: '2025-11-03T10:00:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' })], STATUS_KEY)
    await loadFills(db, [slice('31', '2025-11-03T10:05:00Z', '90.5', '100.0'), slice('32', '2025-11-03T10:05:00Z', '90.5', '90.0')], FILLS_KEY)
    const { rows: judged } = await db.query('SELECT twap_id, reconciled, filled_size::text, filled_notional::text, fills_count FROM twap_reconciliation ORDER BY twap_id')
    expect(judged.map((r) => [r.twap_id, r.reconciled])).toEqual([['31', true], ['32', false], ['33', null]])

    // The store as it was before coverage and verdicts existed: without migrations 005 and
    // 006 (the later ones do not touch what those two create, so they stay).
    await db.exec('DROP TABLE twap_reconciliation; DROP TABLE ingest_coverage; DROP FUNCTION judge_twaps; DROP FUNCTION twap_figure_agrees')
    await db.exec('DROP INDEX etl_s3_ingest_log_newest; DROP INDEX etl_s3_ingest_log_failed')
    await db.query('DELETE FROM schema_migrations WHERE version IN (5, 6)')

    const applied = await migrate(db, listMigrations())

    expect(applied).toEqual(['005_coverage', '006_reconciliation_rule'])
    const { rows } = await db.query('SELECT twap_id, reconciled, filled_size::text, filled_notional::text, fills_count FROM twap_reconciliation ORDER BY twap_id')
    expect(rows).toEqual(judged)
  })
})
