import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import type { Queryable } from '#src/store/db.ts'
import { walletFills, type FillPosition, type FillRange, type FillRow } from '#src/store/fill-queries.ts'
import { isoFromPg } from '#src/store/db.ts'
import { formulaGuard } from './csv-safe.ts'
import { slices } from '#src/api/plugins/app/export-slots.ts'
import { FILL_CSV_COLUMNS, toFill, toFillCsvRecord } from './fill-json.ts'
import { RawTexts } from './raw-json.ts'

/** Fills fetched per query while exporting. */
const EXPORT_CHUNK = 5000

/** Where a fill stands, to resume after it. */
export function fillPosition(row: FillRow): FillPosition {
  return { time: isoFromPg(row.time as string), id: row.id }
}

/**
 * The fills of `range` after `after`, newest first, in chunks: the keyset page query run
 * again from the end of each chunk, the next one asked for while this one is sent, as the
 * TWAP export does.
 */
async function* fillChunks(db: Queryable, range: FillRange, after: FillPosition | null, withRaw: boolean): AsyncGenerator<FillRow[]> {
  const fetch = (from: FillPosition | null) => {
    const rows = walletFills(db, range, from, EXPORT_CHUNK, withRaw)
    rows.catch(() => {})
    return rows
  }
  let next: Promise<FillRow[]> | null = fetch(after)
  while (next) {
    const rows: FillRow[] = await next
    next = rows.length === EXPORT_CHUNK ? fetch(fillPosition(rows[rows.length - 1]!)) : null
    if (rows.length > 0) yield rows
  }
}

/**
 * The export of `range` as a byte stream of CSV (header, one line per fill) or NDJSON (one
 * JSON fill a line, as in the JSON page). The first query runs before it returns, so an
 * outage is a 503 rather than a 200 cut short.
 */
export async function openFillExport(db: Queryable, range: FillRange, after: FillPosition | null, format: 'csv' | 'ndjson', csvSafe = false): Promise<Readable> {
  const chunks = fillChunks(db, range, after, format === 'ndjson')
  const first = await chunks.next()
  async function* all() {
    if (first.done) return
    yield first.value
    yield* chunks
  }
  const options = { columns: [...FILL_CSV_COLUMNS], cast: { boolean: (value: boolean) => (value ? 'true' : 'false'), ...formulaGuard(csvSafe) } }
  async function* text() {
    let header = format === 'csv'
    for await (const rows of all()) {
      for (const slice of slices(rows)) {
        if (format === 'csv') yield stringify(slice.map(toFillCsvRecord), { ...options, header })
        else {
          const raws = new RawTexts()
          yield raws.splice(slice.map((row) => JSON.stringify(toFill(row, raws)) + '\n').join(''))
        }
        header = false
      }
    }
    if (header) yield stringify([], { ...options, header })
  }
  return Readable.from(text(), { objectMode: false })
}
