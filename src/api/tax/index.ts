import { Readable } from 'node:stream'
import { stringify } from 'csv-stringify/sync'
import { isoFromPg, type Queryable } from '../../store/db.ts'
import type { FillPosition, FillRange } from '../../store/fill-queries.ts'
import { taxFills, type TaxFillRow } from '../../store/tax-queries.ts'
import { awakenPerps, awakenSpot } from './awaken.ts'
import { cointracker } from './cointracker.ts'
import type { TaxFormat } from './common.ts'
import { koinly } from './koinly.ts'

/** The tax platforms' formats, by the `format` value that selects each. */
export const TAX_FORMATS = { awaken: awakenPerps, 'awaken-spot': awakenSpot, koinly, cointracker } as const satisfies Record<string, TaxFormat>
export type TaxFormatName = keyof typeof TAX_FORMATS
export const TAX_FORMAT_NAMES = Object.keys(TAX_FORMATS) as TaxFormatName[]

const CHUNK = 5000

/**
 * The fills of `range` in `format`, streamed: a header row, then one line per fill the
 * format takes, read in keyset chunks so a whole tax year holds one chunk in memory. The
 * first query runs before this returns, so an outage is a 503, not a 200 cut short.
 */
export async function openTaxExport(db: Queryable, range: FillRange, name: TaxFormatName): Promise<Readable> {
  const format: TaxFormat = TAX_FORMATS[name]
  const options = { columns: [...format.columns] }
  let rows: TaxFillRow[] = await taxFills(db, range, null, CHUNK)
  async function* text() {
    yield stringify([], { ...options, header: true })
    for (;;) {
      const last = rows[rows.length - 1]
      const next = rows.length === CHUNK && last ? taxFills(db, range, { time: isoFromPg(last.time)!, id: last.id } satisfies FillPosition, CHUNK) : null
      next?.catch(() => {})
      const records = rows.filter(format.includes).map(format.record)
      if (records.length > 0) yield stringify(records, options)
      if (!next) return
      rows = await next
    }
  }
  return Readable.from(text(), { objectMode: false })
}
