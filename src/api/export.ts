import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { Db, Queryable } from '../store/db.ts'
import { twapPageCompact } from '../store/export-queries.ts'
import { twapSettlement } from '../store/fill-queries.ts'
import { positionOf, twapPage, type PagePosition, type TwapRange, type TwapSummaryRow } from '../store/twap-queries.ts'
import { formulaGuard } from './csv-safe.ts'
import { slices } from './plugins/export-slots.ts'
import { RawTexts } from './raw-json.ts'
import { CSV_COLUMNS, EVENT_CSV_COLUMNS, eventsOf, toCsvRecord, toEventCsvRecords, toTwaps, type CsvRecord, type EventCsvRecord } from './twap-json.ts'

/** TWAPs fetched per query while exporting: big enough to amortise a query, small in memory. */
export const EXPORT_CHUNK = 2000

/**
 * The TWAPs of `range` after `after`, newest first, in chunks: the same keyset page query
 * as the JSON API run again from the end of each chunk, so an export of any size holds
 * two chunks in memory and each query costs the same however deep into the range it is.
 * The next chunk is asked for before this one is handed out, so the database works while
 * the caller formats and sends (formatting CSV costs about as much as the query).
 */
async function* twapChunks(db: Queryable, range: TwapRange, after: PagePosition | null, withRaw: boolean): AsyncGenerator<TwapSummaryRow[]> {
  // The embedded engine decodes wide rows slowly field by field (see `twapPageCompact`);
  // node-postgres decodes them fast, and PostgreSQL would only spend its CPU building JSON.
  const page = (db as Partial<Db>).engine === 'pglite' ? twapPageCompact : twapPage
  const fetch = (from: PagePosition | null) => {
    const rows = page(db, range, from, EXPORT_CHUNK, withRaw)
    // Handled now, awaited later: a query failing while the caller still holds the previous
    // chunk (or after the client went away) must not become an unhandled rejection.
    rows.catch(() => {})
    return rows
  }
  let next: Promise<TwapSummaryRow[]> | null = fetch(after)
  while (next) {
    const rows: TwapSummaryRow[] = await next
    next = rows.length === EXPORT_CHUNK ? fetch(positionOf(rows[rows.length - 1]!)) : null
    if (rows.length > 0) yield rows
  }
}

/**
 * The export of `range` after `after` as a byte stream of `format` (csv or ndjson). Runs
 * the first query before returning, so a database outage is still answered with a 503
 * rather than a 200 cut short; later chunks are read as the client takes them.
 */
export async function openExport(db: Queryable, range: TwapRange, after: PagePosition | null, format: 'csv' | 'ndjson', withEvents: boolean, csvSafe = false): Promise<Readable> {
  const chunks = twapChunks(db, range, after, format === 'ndjson')
  const first = await chunks.next()
  async function* all() {
    if (first.done) return
    yield first.value
    yield* chunks
  }
  return format === 'csv' ? csvStream(db, range, all(), withEvents, csvSafe) : ndjsonStream(db, range, all(), withEvents)
}

/**
 * CSV: a header row, then one line per TWAP with its fill totals (see `CSV_COLUMNS`), or with `withEvents` one
 * line per event in the range, TWAPs newest first and each one's events oldest first (see
 * `EVENT_CSV_COLUMNS`). Each slice of a chunk becomes one string, so the response is written
 * in pieces of a few hundred lines rather than one per line.
 */
function csvStream(db: Queryable, range: TwapRange, chunks: AsyncIterable<TwapSummaryRow[]>, withEvents: boolean, csvSafe: boolean): Readable {
  const columns: readonly string[] = withEvents ? EVENT_CSV_COLUMNS : CSV_COLUMNS
  const options = { columns: [...columns], cast: { boolean: (value: boolean) => (value ? 'true' : 'false'), ...formulaGuard(csvSafe) } }
  const records = async (rows: TwapSummaryRow[]) => {
    if (!withEvents) {
      const ids = rows.map((row) => row.twap_id)
      const { totals, verdicts } = await twapSettlement(db, ids)
      return rows.map((row) => toCsvRecord(range.wallet, row, totals.get(row.twap_id), verdicts.get(row.twap_id) ?? null))
    }
    const events = await eventsOf(db, range, rows)
    return rows.flatMap((row) => toEventCsvRecords(range.wallet, row, events.get(row.twap_id) ?? []))
  }
  async function* text() {
    let header = true
    for await (const rows of chunks) {
      for (const slice of slices<CsvRecord | EventCsvRecord>(await records(rows))) {
        yield stringify(slice, { ...options, header })
        header = false
      }
    }
    if (header) yield stringify([], { ...options, header })
  }
  return Readable.from(text(), { objectMode: false })
}

/**
 * NDJSON: one JSON TWAP a line, exactly as in the JSON page, with its `events` in the
 * range when `withEvents` (fetched for each chunk in one query).
 */
function ndjsonStream(db: Queryable, range: TwapRange, chunks: AsyncIterable<TwapSummaryRow[]>, withEvents: boolean): Readable {
  async function* lines() {
    for await (const rows of chunks) {
      const raws = new RawTexts()
      for (const slice of slices(await toTwaps(db, range, rows, withEvents, raws))) {
        let text = ''
        for (const twap of slice) text += JSON.stringify(twap) + '\n'
        yield raws.splice(text)
      }
    }
  }
  return Readable.from(lines(), { objectMode: false })
}
