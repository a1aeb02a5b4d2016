import { describe, expect, it } from 'vitest'
import { isoFromPg } from '#src/store/db.ts'
import { engine } from '../support/db.ts'
import { epochNanos, makeEvents, type SourceEvent, type TwapParquetOptions } from '../support/parquet.ts'
import { useEtlHarness } from './harness.ts'

/** Upstream addresses are lower-case, but some files carry checksummed mixed case. */
const MIXED_CASE_WALLET = '0x9D6a0B3c4E5f60718293A4b5C6d7E8f901234aB8'

interface Encoding {
  name: string
  options: TwapParquetOptions
  /** What the `time` column keeps of the event time; `none`: the file has no `time`. */
  timePrecision: 'ns' | 'us' | 'ms' | 'none'
}

const ENCODINGS: Encoding[] = [
  { name: 'snappy, decimal strings, timestamp[ns], int64 ids, error status as JSON text, 5 row groups', timePrecision: 'ns',
    options: { codec: 'SNAPPY', rowGroupSize: 5 } },
  { name: 'zstd, float64 numbers, timestamp[µs], string ids, JSON status column, 3 row groups', timePrecision: 'us',
    options: { codec: 'ZSTD', rowGroupSize: 8, numberEncoding: 'float64', timeEncoding: 'timestamp-us', twapIdEncoding: 'string', statusEncoding: 'json' } },
  { name: 'int64 numbers, timestamp[ms] not UTC-adjusted, VARIANT status column', timePrecision: 'ms',
    options: { numberEncoding: 'int64', timeEncoding: 'timestamp-ms', placedEncoding: 'timestamp-ms', utcAdjusted: false, statusEncoding: 'variant' } },
  { name: 'zstd, epoch milliseconds written into timestamp[ns] columns (early files)', timePrecision: 'ms',
    options: { codec: 'ZSTD', timeEncoding: 'ms-in-ns-bug', placedEncoding: 'ms-in-ns-bug' } },
  { name: 'uncompressed, time as int64 epoch milliseconds', timePrecision: 'ms',
    options: { codec: 'UNCOMPRESSED', timeEncoding: 'int64-ms' } },
  { name: 'times as ISO strings without a zone', timePrecision: 'ns',
    options: { timeEncoding: 'iso-string', placedEncoding: 'iso-string', twapIdEncoding: 'string' } },
  { name: 'no time column: the placement time stands in', timePrecision: 'none',
    options: { timeEncoding: 'none', codec: 'ZSTD' } },
]

/**
 * Twelve TWAPs of one mixed-case wallet, one of them running and one ending in a nested
 * error status, with ids of their own per file.
 */
function fixture(index: number): SourceEvent[] {
  const events = makeEvents({ seed: 40 + index, firstTwapId: 9_000_000 + 100 * index, wallets: [MIXED_CASE_WALLET], twapsPerWallet: 12, runningShare: 0.1 })
  const closing = events.find((e) => e.status !== 'activated')!
  closing.status = { error: 'Insufficient margin to place order.' }
  return events
}

/** ISO-8601 UTC of epoch nanoseconds cut to `precision` and to PostgreSQL's microseconds. */
function iso(nanos: bigint, precision: 'ms' | 'us' | 'ns'): string {
  const unit = precision === 'ms' ? 1_000_000n : 1_000n
  const kept = (nanos / unit) * unit
  const fraction = (kept % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '')
  return new Date(Number(kept / 1_000_000_000n) * 1000).toISOString().slice(0, 19) + (fraction ? `.${fraction}` : '') + 'Z'
}

/** A decimal string as the file's number encoding carries it and NUMERIC then prints it. */
function number(value: string, encoding: TwapParquetOptions['numberEncoding']): string {
  if (encoding === 'float64') return String(Number(value))
  if (encoding === 'int64') return value.split('.')[0]!
  return value
}

/** The row `twap_status` must hold for a source event written with `encoding`. */
function expectedRow(event: SourceEvent, encoding: Encoding) {
  const placedAt = iso(BigInt(event.state_timestamp) * 1_000_000n, 'ms')
  const numbers = encoding.options.numberEncoding
  return {
    twap_id: event.twap_id.toString(),
    wallet: event.state_user.toLowerCase(),
    ts: encoding.timePrecision === 'none' ? placedAt : iso(epochNanos(event.time), encoding.timePrecision),
    asset: event.state_coin,
    side: event.state_side,
    size_requested: number(event.state_sz, numbers),
    size_executed: number(event.state_executedSz, numbers),
    notional_executed: number(event.state_executedNtl, numbers),
    status: typeof event.status === 'string' ? event.status : `error: ${event.status.error}`,
    duration_minutes: event.state_minutes,
    placed_at: placedAt,
    reduce_only: event.state_reduceOnly,
    randomize: event.state_randomize,
  }
}

type StoredRow = ReturnType<typeof expectedRow> & { raw_payload: Record<string, unknown> }

const byEvent = (a: { twap_id: string; status: string }, b: { twap_id: string; status: string }) =>
  a.twap_id.localeCompare(b.twap_id) || a.status.localeCompare(b.status)

describe(`every parquet encoding of the bucket, end to end on ${engine}`, () => {
  const h = useEtlHarness()

  it.each(ENCODINGS.map((encoding, index) => ({ ...encoding, index })))('$name', async (encoding) => {
    const events = fixture(encoding.index)
    const { key } = await h.putEvents(`encodings/${encoding.index}.parquet`, events, encoding.options)

    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 1, objectsFailed: 0, rowsInserted: events.length, rowsDuplicate: 0, rowsRejected: 0 })
    const { rows } = await h.db.query<StoredRow>(
      `SELECT twap_id, wallet, ts, asset, side, size_requested, size_executed, notional_executed, status,
              duration_minutes, placed_at, reduce_only, randomize, raw_payload
         FROM twap_status WHERE s3_object_key = $1`, [key])
    const stored = rows.map(({ raw_payload: _raw, ...row }) => ({ ...row, ts: isoFromPg(row.ts), placed_at: isoFromPg(row.placed_at) }))
    expect(stored.sort(byEvent)).toEqual(events.map((e) => expectedRow(e, encoding)).sort(byEvent))

    // The raw payload is the source row: every column of the file, the wallet as written.
    const columns = Object.keys(events[0]!).filter((c) => !(encoding.timePrecision === 'none' && c === 'time'))
    for (const { raw_payload: raw } of rows) {
      expect(Object.keys(raw).sort()).toEqual(columns.sort())
      expect(raw.state_user).toBe(MIXED_CASE_WALLET)
      expect(typeof raw.twap_id).toBe(encoding.options.twapIdEncoding === 'string' ? 'string' : 'number')
    }
  })
})
