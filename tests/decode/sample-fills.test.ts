import { readFileSync } from 'node:fs'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runEtl } from '#src/etl/run.ts'
import { SAMPLE_WALLETS, sampleFillsLz4 } from '#src/sample.ts'
import { testConfig } from '../support/api.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'

const SAMPLES = new URL('../../samples/', import.meta.url)

describe(`the bundled sample fills, on ${engine}`, () => {
  let store: TestStore
  beforeAll(async () => {
    store = await createTestStore()
    const deps = { db: store.db, config: testConfig(), logger: pino({ level: 'silent' }) }
    await runEtl(deps, { source: { kind: 'local', paths: [new URL('twap-sample.parquet', SAMPLES).pathname] } })
    const fills = await runEtl(deps, { source: { kind: 'local', paths: [new URL('node-fills-sample.lz4', SAMPLES).pathname] }, dataset: 'fills' })
    expect(fills).toMatchObject({ objectsOk: 1, rowsRejected: 0, rowsDuplicate: 0 })
    expect(fills.rowsInserted).toBeGreaterThan(100)
  })
  afterAll(() => store?.destroy())

  it('is the file hl-twap sample generates', () => {
    expect(Buffer.compare(Buffer.from(sampleFillsLz4()), readFileSync(new URL('node-fills-sample.lz4', SAMPLES)))).toBe(0)
  })

  it('holds fills of the sample\'s TWAPs only, adding up exactly to each TWAP\'s executed size and notional', async () => {
    const { rows } = await store.db.query<{ twap_id: string; executed: string; notional: string; sz: string | null; ntl: string | null; wallet_ok: boolean | null }>(
      `SELECT s.twap_id, s.size_executed AS executed, s.notional_executed AS notional, f.sz, f.ntl, f.wallet_ok
         FROM (SELECT DISTINCT ON (twap_id) twap_id, wallet, size_executed, notional_executed
                 FROM twap_status ORDER BY twap_id, ts DESC, is_terminal DESC) s
         FULL JOIN (SELECT twap_id, sum(sz) AS sz, sum(px * sz) AS ntl, bool_and(wallet = (SELECT wallet FROM twap_status t WHERE t.twap_id = f.twap_id LIMIT 1)) AS wallet_ok
                      FROM twap_fill f GROUP BY twap_id) f USING (twap_id)
        ORDER BY twap_id`)
    const executed = rows.filter((r) => Number(r.executed) > 0)
    expect(executed.length).toBeGreaterThan(20)
    for (const r of rows) {
      if (Number(r.executed ?? 0) > 0) {
        expect([r.twap_id, Number(r.sz) === Number(r.executed), r.wallet_ok]).toEqual([r.twap_id, true, true])
      } else {
        expect([r.twap_id, r.sz]).toEqual([r.twap_id, null])
      }
    }
    const { rows: [exact] } = await store.db.query<{ mismatched: number }>(
      `SELECT count(*)::int AS mismatched
         FROM (SELECT DISTINCT ON (twap_id) twap_id, size_executed, notional_executed FROM twap_status ORDER BY twap_id, ts DESC, is_terminal DESC) s
         JOIN (SELECT twap_id, sum(sz) AS sz, sum(px * sz) AS ntl FROM twap_fill GROUP BY twap_id) f USING (twap_id)
        WHERE f.sz <> s.size_executed OR f.ntl <> s.notional_executed`)
    expect(exact!.mismatched).toBe(0)
    const { rows: [mine] } = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM twap_fill WHERE wallet = $1', [SAMPLE_WALLETS[0]])
    expect(mine!.n).toBeGreaterThan(10)
  })
})
