import type { Queryable } from './db.ts'
import type { FillPosition, FillRange } from './fill-queries.ts'

/**
 * The fills a tax export writes: the columns it needs, and the notional `px × sz` computed
 * in NUMERIC so a spot trade's quote amount is exact. Same walk as the fills page.
 */
export interface TaxFillRow {
  id: string
  time: string
  twap_id: string
  coin: string | null
  side: string | null
  dir: string | null
  px: string
  sz: string
  notional: string
  fee: string | null
  fee_token: string | null
  builder_fee: string | null
  closed_pnl: string | null
  tid: string
  oid: string
  hash: string | null
}

const MAX_ID = '9223372036854775807'

const TAX_FILLS = `
  SELECT id, time, twap_id, coin, side, dir, px::text AS px, sz::text AS sz,
         trim_scale(px * sz)::text AS notional, fee::text AS fee, fee_token,
         builder_fee::text AS builder_fee, closed_pnl::text AS closed_pnl, tid, oid, hash
    FROM twap_fill
   WHERE wallet = $1
     AND time >= $2::timestamptz AND time <= $3::timestamptz
     AND ($4::text IS NULL OR coin = $4)
     AND ($5::text IS NULL OR twap_id = $5)
     AND (time, id) < ($6::timestamptz, $7::bigint)
   ORDER BY time DESC, id DESC
   LIMIT $8`

/** Up to `limit` fills of `range` after `after` (or from the newest), newest first. */
export async function taxFills(db: Queryable, range: FillRange, after: FillPosition | null, limit: number): Promise<TaxFillRow[]> {
  const from = after ?? { time: range.end, id: MAX_ID }
  const { rows } = await db.query<TaxFillRow>(TAX_FILLS, [range.wallet, range.start, range.end, range.coin, range.twapId, from.time, from.id, limit])
  return rows
}

/** Whether any fill of the wallet is stored in `[start, end]`. */
export async function fillsInRange(db: Queryable, range: { wallet: string; start: string; end: string }): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM twap_fill WHERE wallet = $1 AND time >= $2::timestamptz AND time <= $3::timestamptz) AS any',
    [range.wallet, range.start, range.end])
  return rows[0]?.any ?? false
}
