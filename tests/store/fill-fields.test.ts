import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FILL_FIELDS } from '#src/decode/fill.ts'
import { createTestApi, loadFills, WALLET, type TestApi } from '../support/api.ts'
import { engine } from '../support/db.ts'
import type { SourceFill } from '../support/lz4.ts'

/**
 * Every field of the fills table goes in through the decoder and COPY and comes back out of
 * its own column with its own value: two fields swapped in the COPY order, or one left out,
 * fail here. Values are chosen so that no two fields of a kind are equal.
 */
const FILL: SourceFill = {
  coin: 'xyz:NVDA', px: '181.25', sz: '3.5', side: 'A', time: 1_761_546_638_019, startPosition: '-12.75',
  dir: 'Close Short', closedPnl: '4.125', hash: '0x' + '0'.repeat(64), oid: 9_007_199_254_740_993n, crossed: true,
  fee: '-0.0421', tid: 990_908_538_720_549_123n, feeToken: 'HYPE', twapId: 1_305_284n, builderFee: '0.0075',
}
const BLOCK_NUMBER = 900_000_000

/** What each column must read back as (PostgreSQL's text of it), by column. */
const EXPECTED: Record<string, string | boolean> = {
  twap_id: '1305284', wallet: WALLET, time: '2025-10-27 06:30:38.019+00', coin: 'xyz:NVDA', side: 'A', px: '181.25', sz: '3.5',
  fee: '-0.0421', fee_token: 'HYPE', builder_fee: '0.0075', closed_pnl: '4.125', start_position: '-12.75', dir: 'Close Short',
  crossed: true, oid: '9007199254740993', tid: '990908538720549123', hash: '0x' + '0'.repeat(64), block_number: String(BLOCK_NUMBER),
  block_time: '2025-10-27 06:30:38.019609+00',
}

describe(`every field of the fills table round-trips through load and read, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
    await loadFills(api.store.db, [[WALLET, FILL]])
  })
  afterAll(() => api?.destroy())

  it('has an expected value for each field of the table, so a new field cannot go untested', () => {
    expect(FILL_FIELDS.map((f) => f.column).sort()).toEqual(Object.keys(EXPECTED).sort())
  })

  it.each(FILL_FIELDS.map((f) => f.column))('reads %s back from its own column', async (column) => {
    const { rows } = await api.store.db.query<Record<string, unknown>>(`SELECT "${column}" AS value FROM twap_fill`)
    expect(rows).toHaveLength(1)
    expect(rows[0]?.value).toBe(EXPECTED[column])
  })

  it('keeps the whole fill, every digit of its ids, as its raw payload', async () => {
    const { rows } = await api.store.db.query<{ raw: string }>('SELECT raw_payload::text AS raw FROM twap_fill')
    expect(rows[0]?.raw).toContain('990908538720549123')
    expect(rows[0]?.raw).toContain('"builderFee": "0.0075"')
  })
})
