import type { Queryable } from './db.ts'
import { MAX_ID, PAGE, type PagePosition, type TwapRange, type TwapSummaryRow } from './twap-queries.ts'

// The page query's rows, each as one JSON array in one text column. The embedded engine
// decodes a result field by field in JavaScript, and for the export's wide rows that is
// most of its time: 4,000 rows of 15 columns took three times as long as the same rows as
// one JSON text each, which `JSON.parse` reads natively. Every value keeps the text the
// columns give (decimals, ids and times cast to text), so the rows are the page's exactly.
const COMPACT_PAGE = `
  SELECT json_build_array(p.id::text, p.twap_id, p.ts::text, p.is_terminal, p.asset, p.side, p.status,
                          p.duration_minutes, p.size_requested::text, p.size_executed::text,
                          p.notional_executed::text, p.avg_price::text, p.placed_at::text,
                          p.reduce_only, p.randomize, p.raw_payload)::text AS row
    FROM (${PAGE}) p`

type CompactRow = [string, string, string, boolean, string | null, string | null, string | null, number | null,
  string | null, string | null, string | null, string | null, string | null, boolean | null, boolean | null, string | null]

/** `twapPage`, read as one JSON text a row: the same rows, faster to decode on the embedded engine. */
export async function twapPageCompact(db: Queryable, range: TwapRange, after: PagePosition | null, limit: number, withRaw: boolean): Promise<TwapSummaryRow[]> {
  const from = after ?? { ts: range.end, isTerminal: true, id: MAX_ID }
  const { rows } = await db.query<{ row: string }>(COMPACT_PAGE, [
    range.wallet, range.start, range.end, range.asset, from.ts, from.isTerminal, from.id, limit, withRaw,
  ])
  return rows.map(({ row }) => {
    const [id, twapId, ts, isTerminal, asset, side, status, durationMinutes, sizeRequested, sizeExecuted, notionalExecuted, avgPrice, placedAt, reduceOnly, randomize, raw] = JSON.parse(row) as CompactRow
    return {
      id, twap_id: twapId, ts, is_terminal: isTerminal, asset, side, status, duration_minutes: durationMinutes,
      size_requested: sizeRequested, size_executed: sizeExecuted, notional_executed: notionalExecuted, avg_price: avgPrice,
      placed_at: placedAt, reduce_only: reduceOnly, randomize, raw_payload: raw,
    }
  })
}
