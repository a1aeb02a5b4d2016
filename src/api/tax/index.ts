import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import { isoFromPg, type Db, type Queryable } from '#src/store/db.ts'
import { twapExportChunks } from '#src/store/export-queries.ts'
import type { FillRange } from '#src/store/fill-queries.ts'
import { taxFills } from '#src/store/tax-queries.ts'
import type { TwapRange, TwapSummaryRow } from '#src/store/twap-queries.ts'
import { formulaGuard } from '#src/api/csv-safe.ts'
import { streamOf } from '#src/api/export.ts'
import { slices } from '#src/api/plugins/app/export-slots.ts'
import type { TaxFormatName } from '#src/api/schemas/twaps.ts'
import { awakenPerps, awakenSpot } from './awaken.ts'
import { cointracker } from './cointracker.ts'
import { isSpot, isZero, type TaxFormat, type TaxRow } from './common.ts'
import { koinly } from './koinly.ts'

/** The tax platforms' formats, by the `format` value that selects each. */
export const TAX_FORMATS: Record<TaxFormatName, TaxFormat> = { awaken: awakenPerps, 'awaken-spot': awakenSpot, koinly, cointracker }

export function isTaxFormat(format: string): format is TaxFormatName {
  return Object.hasOwn(TAX_FORMATS, format)
}

const CHUNK = 5000

/**
 * The rows of `chunks` in `format`, streamed: a header row, then one line per row the format
 * takes (`toRow`), a slice of a few hundred lines at a time. The first chunk is read before
 * this returns, so an outage is a 503, not a 200 cut short.
 */
function taxStream<R>(name: TaxFormatName, chunks: AsyncGenerator<R[]>, toRow: (row: R) => TaxRow | null, csvSafe: boolean): Promise<Readable> {
  const format = TAX_FORMATS[name]
  const options = { columns: [...format.columns], cast: formulaGuard(csvSafe) }
  async function* text(rows: AsyncIterable<R[]>) {
    yield stringify([], { ...options, header: true })
    for await (const chunk of rows) {
      const records = chunk.map(toRow).filter((row): row is TaxRow => row !== null && format.includes(row)).map(format.record)
      for (const slice of slices(records)) yield stringify(slice, options)
    }
  }
  return streamOf(chunks, (rows) => Readable.from(text(rows), { objectMode: false }))
}

/**
 * Rows in keyset chunks of `CHUNK`: `first`, then `next` after the last row of each full
 * chunk, asked for while this one is written, so a whole tax year holds two chunks.
 */
async function* keysetChunks<R>(first: Promise<R[]>, next: (last: R) => Promise<R[]>): AsyncGenerator<R[]> {
  let following: Promise<R[]> | null = first
  while (following) {
    const rows: R[] = await following
    const last = rows[rows.length - 1]
    following = rows.length === CHUNK && last !== undefined ? next(last) : null
    following?.catch(() => {})
    if (rows.length > 0) yield rows
  }
}

/** The fills of `range` in a tax format, newest first, one line per fill. */
export function openTaxExport(db: Queryable, range: FillRange, name: TaxFormatName, csvSafe = false): Promise<Readable> {
  const chunks = keysetChunks(taxFills(db, range, null, CHUNK), (last) => taxFills(db, range, { time: isoFromPg(last.time)!, id: last.id }, CHUNK))
  return taxStream(name, chunks, (row) => row, csvSafe)
}

/**
 * A TWAP as one trade at its average price, at the time of its latest event in the range;
 * none when nothing executed. Statuses carry no direction: a reduce-only perp TWAP is
 * taken as a close, any other as an open.
 */
function twapAsTrade(row: TwapSummaryRow): TaxRow | null {
  if (row.size_executed === null || row.notional_executed === null || row.avg_price === null || isZero(row.size_executed)) return null
  const dir = isSpot(row.asset) ? (row.side === 'B' ? 'Buy' : 'Sell') : (row.reduce_only ? 'Close' : 'Open')
  return {
    id: row.id, time: row.ts, twap_id: row.twap_id, coin: row.asset, side: row.side, dir,
    px: row.avg_price, sz: row.size_executed, notional: row.notional_executed,
    fee: null, fee_token: null, builder_fee: null, closed_pnl: null, tid: '', oid: '', hash: null, aggregated: true,
  }
}

/**
 * The TWAPs of `range` in a tax format, newest first, one trade per TWAP (see `twapAsTrade`),
 * read as the TWAP exports are: from one snapshot on PostgreSQL (see `twapExportChunks`).
 */
export function openTwapTaxExport(db: Db, range: TwapRange, name: TaxFormatName, csvSafe = false): Promise<Readable> {
  return taxStream(name, twapExportChunks(db, range, null, false, CHUNK, async (_reads, rows) => rows), twapAsTrade, csvSafe)
}
