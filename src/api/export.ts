import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { Db, Queryable } from '#src/store/db.ts'
import { twapExportChunks } from '#src/store/export-queries.ts'
import { twapSettlement, type TwapSettlement } from '#src/store/fill-queries.ts'
import type { PagePosition, TwapEventRow, TwapRange, TwapSummaryRow } from '#src/store/twap-queries.ts'
import { formulaGuard } from './csv-safe.ts'
import { slices } from '#src/api/plugins/app/export-slots.ts'
import { RawTexts } from './raw-json.ts'
import { CSV_COLUMNS, EVENT_CSV_COLUMNS, eventsOf, toCsvRecord, toEventCsvRecords, toTwaps, type CsvRecord, type EventCsvRecord } from './twap-json.ts'

/** TWAPs fetched per query while exporting: big enough to amortise a query, small in memory. */
export const EXPORT_CHUNK = 2000

/**
 * The export of `range` after `after` as a byte stream of `format` (csv or ndjson), read
 * from one snapshot on PostgreSQL (see `twapExportChunks`). Runs the first query before
 * returning, so a database outage is still answered with a 503 rather than a 200 cut
 * short; later chunks are read as the client takes them.
 */
export async function openExport(db: Db, range: TwapRange, after: PagePosition | null, format: 'csv' | 'ndjson', withEvents: boolean, csvSafe = false): Promise<Readable> {
  if (format === 'ndjson') {
    const chunks = twapExportChunks(db, range, after, true, EXPORT_CHUNK, (reads, rows) => ndjsonLines(reads, range, rows, withEvents))
    return streamOf(chunks, (pieces) => Readable.from(joined(pieces), { objectMode: false }))
  }
  if (withEvents) {
    const chunks = twapExportChunks(db, range, after, false, EXPORT_CHUNK, async (reads, rows) => eventCsvRecords(range, rows, await eventsOf(reads, range, rows)))
    return streamOf(chunks, (records) => csvStream(records, EVENT_CSV_COLUMNS, csvSafe))
  }
  const chunks = twapExportChunks(db, range, after, false, EXPORT_CHUNK, async (reads, rows) => csvRecords(range, rows, await twapSettlement(reads, rows.map((row) => row.twap_id))))
  return streamOf(chunks, (records) => csvStream(records, CSV_COLUMNS, csvSafe))
}

/**
 * The stream `write` makes of `chunks`, once the first chunk is read (so that a failing
 * first read throws here). A stream destroyed before it began to read never stops the
 * chunks itself; this does when the stream closes, so a snapshot is never left open.
 */
export async function streamOf<T>(chunks: AsyncGenerator<T>, write: (chunks: AsyncIterable<T>) => Readable): Promise<Readable> {
  const first = await chunks.next()
  async function* all() {
    if (first.done) return
    yield first.value
    yield* chunks
  }
  const stream = write(all())
  stream.once('close', () => {
    chunks.return(undefined).catch(() => {})
  })
  return stream
}

/** A chunk's TWAPs as CSV records, one per TWAP with its fill totals (see `CSV_COLUMNS`). */
function csvRecords(range: TwapRange, rows: readonly TwapSummaryRow[], { totals, verdicts }: TwapSettlement): CsvRecord[] {
  return rows.map((row) => toCsvRecord(range.wallet, row, totals.get(row.twap_id), verdicts.get(row.twap_id) ?? null))
}

/** A chunk's TWAPs as CSV records, one per event in the range, oldest first per TWAP (see `EVENT_CSV_COLUMNS`). */
function eventCsvRecords(range: TwapRange, rows: readonly TwapSummaryRow[], events: Map<string, TwapEventRow[]>): EventCsvRecord[] {
  return rows.flatMap((row) => toEventCsvRecords(range.wallet, row, events.get(row.twap_id) ?? []))
}

/**
 * A chunk's TWAPs as NDJSON text, one JSON TWAP a line exactly as in the JSON page (with its
 * `events` in the range when `withEvents`), in pieces of a few hundred lines.
 */
async function ndjsonLines(reads: Queryable, range: TwapRange, rows: TwapSummaryRow[], withEvents: boolean): Promise<string[]> {
  const raws = new RawTexts()
  const pieces: string[] = []
  for (const slice of slices(await toTwaps(reads, range, rows, withEvents, raws))) {
    let text = ''
    for (const twap of slice) text += JSON.stringify(twap) + '\n'
    pieces.push(raws.splice(text))
  }
  return pieces
}

async function* joined(chunks: AsyncIterable<string[]>): AsyncGenerator<string> {
  for await (const pieces of chunks) yield* pieces
}

/**
 * CSV: a header row, then the records of each chunk, TWAPs newest first. Each slice of a
 * chunk becomes one string, so the response is written in pieces of a few hundred lines
 * rather than one per line.
 */
function csvStream(chunks: AsyncIterable<CsvRecord[] | EventCsvRecord[]>, columns: readonly string[], csvSafe: boolean): Readable {
  const options = { columns: [...columns], cast: { boolean: (value: boolean) => (value ? 'true' : 'false'), ...formulaGuard(csvSafe) } }
  async function* text() {
    let header = true
    for await (const records of chunks) {
      for (const slice of slices<CsvRecord | EventCsvRecord>(records)) {
        yield stringify(slice, { ...options, header })
        header = false
      }
    }
    if (header) yield stringify([], { ...options, header })
  }
  return Readable.from(text(), { objectMode: false })
}
