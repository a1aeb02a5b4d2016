import { STATUS_FIELDS, type StatusKind } from '#src/decode/event.ts'
import type { Db, Queryable } from './db.ts'
import { MAX_ID, PAGE, positionOf, twapPage, type PagePosition, type TwapRange, type TwapSummaryRow } from './twap-queries.ts'

// The page query's rows, each as one JSON array in one text column. The embedded engine
// decodes a result field by field in JavaScript, and for the export's wide rows that is
// most of its time: 4,000 rows of 15 columns took three times as long as the same rows as
// one JSON text each, which `JSON.parse` reads natively. Every value keeps the text the
// columns give (decimals, ids and times cast to text), so the rows are the page's exactly.
const COMPACT_FIELDS = ['id', 'is_terminal', ...STATUS_FIELDS.map((f) => f.column), 'avg_price', 'raw_payload'] as const
// Decimals and times as their text, not as JSON numbers (which `JSON.parse` would round) nor
// json's ISO form; ids are text already.
const TEXT_CAST: ReadonlySet<StatusKind> = new Set(['decimal', 'time'])
const COMPACT_PAGE = `
  SELECT json_build_array(p.id::text, p.is_terminal,
                          ${STATUS_FIELDS.map((f) => `p.${f.column}${TEXT_CAST.has(f.kind) ? '::text' : ''}`).join(', ')},
                          p.avg_price::text, p.raw_payload)::text AS row
    FROM (${PAGE}) p`

/** `twapPage`, read as one JSON text a row: the same rows, faster to decode on the embedded engine. */
export async function twapPageCompact(db: Queryable, range: TwapRange, after: PagePosition | null, limit: number, withRaw: boolean): Promise<TwapSummaryRow[]> {
  const from = after ?? { ts: range.end, isTerminal: true, id: MAX_ID }
  const { rows } = await db.query<{ row: string }>(COMPACT_PAGE, [
    range.wallet, range.start, range.end, range.asset, from.ts, from.isTerminal, from.id, limit, withRaw,
  ])
  const count = COMPACT_FIELDS.length
  return rows.map(({ row }) => {
    const values = JSON.parse(row) as unknown[]
    const out: Record<string, unknown> = {}
    for (let k = 0; k < count; k++) out[COMPACT_FIELDS[k] as string] = values[k]
    return out as unknown as TwapSummaryRow
  })
}

/** A chunk as `prepare` made it, with where the next one starts (null after the last). */
interface Prepared<T> {
  more: PagePosition | null
  empty: boolean
  chunk: T
}

/**
 * The TWAPs of `range` after `after`, newest first, as chunks of `size` rows, each made
 * ready by `prepare` (which reads what goes with the rows through the `db` it is given):
 * the keyset page query run again from the end of each chunk, so an export of any size
 * holds two chunks and each query costs the same however deep into the range it is. The
 * next chunk is read and prepared while the caller writes this one.
 *
 * On PostgreSQL every read of the export is made in one snapshot (`Db.snapshot`): an
 * ingest committing while it streams can neither move a TWAP's latest event ahead of the
 * position the export has passed (dropping the TWAP from it) nor change what later chunks
 * show. The snapshot ends when the chunks do, or when the caller stops early (`return`).
 * The embedded engine, which has no snapshot to offer, reads each chunk as the data is then.
 */
export async function* twapExportChunks<T>(
  db: Queryable & Partial<Pick<Db, 'engine' | 'snapshot'>>,
  range: TwapRange,
  after: PagePosition | null,
  withRaw: boolean,
  size: number,
  prepare: (db: Queryable, rows: TwapSummaryRow[]) => Promise<T>,
): AsyncGenerator<T> {
  const snapshot = db.snapshot ? await db.snapshot() : undefined
  const reads: Queryable = snapshot ?? db
  // The embedded engine decodes wide rows slowly field by field (see `twapPageCompact`).
  const page = db.engine === 'pglite' ? twapPageCompact : twapPage
  const read = async (from: PagePosition | null): Promise<Prepared<T>> => {
    const rows = await page(reads, range, from, size, withRaw)
    const last = rows.length === size ? rows[rows.length - 1] : undefined
    return { more: last ? positionOf(last) : null, empty: rows.length === 0, chunk: await prepare(reads, rows) }
  }
  const start = (from: PagePosition | null) => {
    const next = read(from)
    // Handled now, awaited later: a read failing while the caller still writes the previous
    // chunk (or after the client went away) must not become an unhandled rejection.
    next.catch(() => {})
    return next
  }
  try {
    let next: Promise<Prepared<T>> | null = start(after)
    while (next) {
      const { more, empty, chunk }: Prepared<T> = await next
      next = more ? start(more) : null
      if (!empty) yield chunk
    }
  } finally {
    await snapshot?.close()
  }
}
