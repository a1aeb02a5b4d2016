import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STATUS_FIELDS, type StatusField, type TwapEvent } from '#src/decode/event.ts'
import { isoFromPg } from '#src/store/db.ts'
import { COPY_COLUMNS } from '#src/store/load.ts'
import { createTestApi, loadEvents, WALLET, type TestApi } from '../support/api.ts'
import { engine } from '../support/db.ts'

/**
 * Every field of the statuses table goes in through a parquet file, the decoder and COPY,
 * and comes back out of its own column and its own API field with its own value: two
 * fields swapped in the COPY order, one left out, or a column the migrations lack, fail
 * here. The values are made from the table itself, one distinct value a field, so a field
 * added to the table is tested without a line of this file changing.
 */

const BASE_MS = Date.parse('2025-11-03T12:00:00Z')

/** A value of `field`'s kind that no other field of the table has. */
function valueOf(field: StatusField, index: number): string | number | boolean {
  switch (field.kind) {
    case 'id':
      return String(9_007_199_254_740_993n + BigInt(index)) // past 2^53
    case 'wallet':
      return WALLET
    case 'text':
      return `${field.column} \\ text ${index}` // a backslash COPY must escape
    case 'status':
      return `error: ${field.column} ${index}`
    case 'decimal':
      return `${index}.${'0'.repeat(index)}1` // each with its own number of decimals
    case 'int32':
      return 1_000 + index
    case 'bool':
      return index % 2 === 0
    case 'time':
      // Hours apart; the parquet writers give epoch milliseconds or ISO text.
      return new Date(BASE_MS + index * 3_600_000 + index).toISOString()
  }
}

const EXPECTED = Object.fromEntries(STATUS_FIELDS.map((f, i) => [f.key, valueOf(f, i)])) as unknown as Omit<TwapEvent, 'raw'>

/** A stored value as the test states it: times as ISO-8601 text. */
function stated(field: StatusField, value: unknown): unknown {
  return field.kind === 'time' ? isoFromPg(value as string) : value
}

/** A field's value in an API object, by its path (`executed.size`); the event's time is `latest_ts` in a TWAP. */
function apiValue(object: Record<string, unknown>, path: string): unknown {
  return path.split('.').reduce<unknown>((at, name) => (at as Record<string, unknown> | undefined)?.[name], object)
}

describe(`every field of the statuses table round-trips through load and read, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
    const summary = await loadEvents(api.store.db, [{ ...EXPECTED, raw: '' } as TwapEvent])
    expect(summary.rowsInserted).toBe(1)
  })
  afterAll(() => api?.destroy())

  it('gives every field a distinct value, so a swap of two cannot go unseen', () => {
    for (const kind of new Set(STATUS_FIELDS.map((f) => f.kind))) {
      const values = STATUS_FIELDS.filter((f) => f.kind === kind).map((f) => JSON.stringify(EXPECTED[f.key as keyof typeof EXPECTED]))
      expect(new Set(values).size, kind).toBe(values.length)
    }
  })

  it('declares each field as the migrations made its column', async () => {
    const { rows } = await api.store.db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'twap_status'`)
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]))
    for (const f of STATUS_FIELDS) expect(types[f.column], f.column).toBe(f.sql)
    expect(COPY_COLUMNS.filter((c) => !(c in types))).toEqual([])
  })

  it.each(STATUS_FIELDS.map((f) => [f.column, f] as const))('reads %s back from its own column', async (column, field) => {
    const { rows } = await api.store.db.query<{ value: unknown }>(`SELECT "${column}" AS value FROM twap_status`)
    expect(rows).toHaveLength(1)
    expect(stated(field, rows[0]?.value)).toBe(EXPECTED[field.key as keyof typeof EXPECTED])
  })

  it('shows each field under its API name in the TWAP list, the history and the CSV export', async () => {
    const range = `wallet=${WALLET}&start=2025-11-01&end=2025-11-30`
    const list = (await api.app.inject(`/api/v1/twaps?${range}&latest_per_twap=false`)).json() as { twaps: Record<string, unknown>[] }
    const history = (await api.app.inject(`/api/v1/twaps/${EXPECTED.twapId}`)).json() as { twap_id: string; rows: Record<string, unknown>[] }
    const csv = (await api.app.inject(`/api/v1/twaps?${range}&format=csv`)).body.trim().split('\n')
    const cells = Object.fromEntries(csv[0]!.split(',').map((name, i) => [name, csv[1]!.split(',')[i]]))
    const [twap] = list.twaps
    expect(history.twap_id).toBe(EXPECTED.twapId)
    for (const f of STATUS_FIELDS) {
      const expected = EXPECTED[f.key as keyof typeof EXPECTED]
      const inTwap = f.column === 'ts' ? 'latest_ts' : f.api
      if (f.scope !== 'wallet') expect(apiValue(twap!, inTwap), `${f.column} in a TWAP`).toBe(expected)
      if (f.scope === 'event') expect(apiValue((twap!.events as Record<string, unknown>[])[0]!, f.api), `${f.column} in an event`).toBe(expected)
      if (f.scope !== 'id') expect(apiValue(history.rows[0]!, f.api), `${f.column} in the history`).toBe(expected)
      const column = f.column === 'ts' ? 'latest_ts' : f.api.replace('.', '_')
      expect(cells[column], `${f.column} in the CSV`).toBe(String(expected))
    }
  })
})
