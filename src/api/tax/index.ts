import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import { isoFromPg, type Db, type Queryable } from '../../store/db.ts'
import { twapExportChunks } from '../../store/export-queries.ts'
import type { FillRange } from '../../store/fill-queries.ts'
import { taxFills } from '../../store/tax-queries.ts'
import type { TwapRange, TwapSummaryRow } from '../../store/twap-queries.ts'
import { formulaGuard } from '../csv-safe.ts'
import { streamOf } from '../export.ts'
import { slices } from '../plugins/export-slots.ts'
import type { TaxFormatName } from '../schemas/twaps.ts'
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
 * `rows` in `format`, streamed: a header row, then one line per row the format takes. The
 * rows come in keyset chunks (`next` fetches the one after a chunk, null after the last),
 * the next asked for while this one is written, so a whole tax year holds two chunks in
 * memory. The first chunk is read before this returns, so an outage is a 503, not a 200
 * cut short.
 */
async function taxStream<R>(name: TaxFormatName, first: Promise<R[]>, next: (last: R) => Promise<R[]>, toRow: (row: R) => TaxRow | null, csvSafe: boolean): Promise<Readable> {
  const format = TAX_FORMATS[name]
  const options = { columns: [...format.columns], cast: formulaGuard(csvSafe) }
  let rows = await first
  async function* text() {
    yield stringify([], { ...options, header: true })
    for (;;) {
      const last = rows[rows.length - 1]
      const following = rows.length === CHUNK && last !== undefined ? next(last) : null
      following?.catch(() => {})
      for (const slice of slices(taxRecords(format, rows, toRow))) yield stringify(slice, options)
      if (!following) return
      rows = await following
    }
  }
  return Readable.from(text(), { objectMode: false })
}

/** The fills of `range` in a tax format, newest first, one line per fill. */
export function openTaxExport(db: Queryable, range: FillRange, name: TaxFormatName, csvSafe = false): Promise<Readable> {
  return taxStream(name, taxFills(db, range, null, CHUNK), (last) => taxFills(db, range, { time: isoFromPg(last.time)!, id: last.id }, CHUNK), (row) => row, csvSafe)
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
  const format = TAX_FORMATS[name]
  const options = { columns: [...format.columns], cast: formulaGuard(csvSafe) }
  const chunks = twapExportChunks(db, range, null, false, CHUNK, async (_reads, rows) => taxRecords(format, rows, twapAsTrade))
  return streamOf(chunks, (records) => Readable.from(taxText(records, options), { objectMode: false }))
}

/** `rows` as records of `format`: those it takes, each made a `TaxRow` by `toRow`. */
function taxRecords<R>(format: TaxFormat, rows: readonly R[], toRow: (row: R) => TaxRow | null): Record<string, string>[] {
  return rows.map(toRow).filter((row): row is TaxRow => row !== null && format.includes(row)).map(format.record)
}

/** A header row, then each chunk's records, a slice of a few hundred lines at a time. */
async function* taxText(chunks: AsyncIterable<Record<string, string>[]>, options: Parameters<typeof stringify>[1]): AsyncGenerator<string> {
  yield stringify([], { ...options, header: true })
  for await (const records of chunks) for (const slice of slices(records)) yield stringify(slice, options)
}
