import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { twapExportChunks } from '#src/store/export-queries.ts'
import { twapPage, type TwapRange, type TwapSummaryRow } from '#src/store/twap-queries.ts'
import { WALLET, loadEvents, twapEvent, twapLifecycle } from '../support/api.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'

const TWAPS = 30
const RANGE: TwapRange = { wallet: WALLET, start: '2025-01-01T00:00:00Z', end: '2025-12-31T23:59:59.999999Z', asset: null }
const OLDEST = '1000'

/** The TWAP ids of each chunk. */
const ids = async (_db: unknown, rows: TwapSummaryRow[]) => rows.map((r) => r.twap_id)

async function collect(chunks: AsyncIterable<string[]>): Promise<string[][]> {
  const all: string[][] = []
  for await (const chunk of chunks) all.push(chunk)
  return all
}

describe(`an export's chunks of TWAPs on ${engine}`, () => {
  let store: TestStore
  let expected: string[]

  beforeAll(async () => {
    store = await createTestStore()
    const events = []
    for (let i = 0; i < TWAPS; i++) events.push(...twapLifecycle(String(1000 + i), new Date(Date.UTC(2025, 1, 1) + i * 3_600_000).toISOString()))
    await loadEvents(store.db, events)
    expected = (await twapPage(store.db, RANGE, null, 1000, false)).map((r) => r.twap_id)
    expect(expected).toHaveLength(TWAPS)
  })
  afterAll(() => store?.destroy())

  /**
   * Other connections of this database inside a transaction: an export's snapshot, whether it
   * is between two reads or reading the next chunk ahead (its state is then `active`).
   */
  async function openSnapshots(): Promise<number> {
    const { rows: [row] } = await store.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`, [])
    return row!.n
  }

  it('lists every TWAP of the range once, newest first, in chunks of the size asked', async () => {
    const chunks = await collect(twapExportChunks(store.db, RANGE, null, false, 7, ids))
    expect(chunks.map((c) => c.length)).toEqual([7, 7, 7, 7, 2])
    expect(chunks.flat()).toEqual(expected)
    // A size that divides the count ends without an empty chunk.
    expect((await collect(twapExportChunks(store.db, RANGE, null, false, 10, ids))).map((c) => c.length)).toEqual([10, 10, 10])
  })

  it.runIf(engine === 'postgres')('reads the data as it was when it began, though an ingest commits in between (PostgreSQL)', async () => {
    const chunks = twapExportChunks(store.db, RANGE, null, false, 10, ids)
    const first = await chunks.next()
    expect(first.done).toBe(false)
    expect(await openSnapshots()).toBe(1)
    // The oldest TWAP gets an event later than any other: its latest row moves ahead of the
    // position the export has passed, where reading page after page would never see it.
    await loadEvents(store.db, [twapEvent({ twapId: OLDEST, ts: '2025-06-01T00:00:00Z', status: 'terminated', placedAt: '2025-02-01T00:00:00Z' })], 'test/late.parquet')
    const rest = await collect({ [Symbol.asyncIterator]: () => chunks })
    const seen = [...(first.value as string[]), ...rest.flat()]
    expect(seen).toEqual(expected)
    expect(await openSnapshots()).toBe(0)
    // A new export sees the ingest.
    const after = (await collect(twapExportChunks(store.db, RANGE, null, false, 10, ids))).flat()
    expect(after[0]).toBe(OLDEST)
    expect(after).toHaveLength(TWAPS)
  })

  it.runIf(engine === 'postgres')('ends its snapshot when the caller stops early (PostgreSQL)', async () => {
    const chunks = twapExportChunks(store.db, RANGE, null, false, 5, ids)
    const first = await chunks.next()
    expect(first.value).toHaveLength(5)
    expect(await openSnapshots()).toBe(1)
    await chunks.return(undefined)
    expect(await openSnapshots()).toBe(0)
  })
})
