import type { Queryable } from './db.ts'

/**
 * A wallet's totals over a time range, one query per dataset: the TWAPs (each its latest
 * status event in the range, as the TWAP list shows it) and the fills. Each query groups
 * by GROUPING SETS, so the per-asset rows and the totals across assets come from the same
 * scan and every sum is NUMERIC, exact, computed by the database.
 */

/** A wallet's range, optionally of one asset (a TWAP's `asset`, a fill's `coin`). */
export interface SummaryRange {
  wallet: string
  start: string
  end: string
  asset: string | null
}

/**
 * One group of TWAPs. `level` is PostgreSQL's GROUPING bitmask of (asset, side, status):
 * 0 one asset, side and status; 1 one asset and side; 6 one status across assets; 7 all.
 */
export interface TwapGroupRow {
  level: number
  asset: string | null
  side: string | null
  status: string | null
  count: number
  size: string
  notional: string
  avg_price: string | null
}

// The latest event per TWAP is picked before the asset filter, so a TWAP counts under the
// asset its latest event names, as in the list. The TWAPs are summed by (asset, side,
// status) first, in a hash of a few dozen groups, and the grouping sets are built from
// those: grouping sets over the TWAPs themselves sort every one of them (100,000 for the
// largest wallets, spilling to disk) before aggregating.
const TWAP_GROUPS = `
  WITH latest AS (
    SELECT DISTINCT ON (twap_id) asset, side, status, size_executed, notional_executed
      FROM twap_status
     WHERE wallet = $1 AND ts >= $2::timestamptz AND ts <= $3::timestamptz
     ORDER BY twap_id, ts DESC, is_terminal DESC, id DESC),
  groups AS (
    SELECT asset, side, status, count(*) AS count,
           sum(size_executed) AS size, sum(notional_executed) AS notional
      FROM latest
     WHERE $4::text IS NULL OR asset = $4
     GROUP BY asset, side, status)
  SELECT GROUPING(asset, side, status)::int AS level, asset, side, status,
         coalesce(sum(count), 0)::int AS count,
         trim_scale(coalesce(sum(size), 0)) AS size,
         trim_scale(coalesce(sum(notional), 0)) AS notional,
         trim_scale(sum(notional) / NULLIF(sum(size), 0)) AS avg_price
    FROM groups
   GROUP BY GROUPING SETS ((asset, side, status), (asset, side), (status), ())
   ORDER BY level, asset, side, status`

/**
 * One group of fills. `level` is the GROUPING bitmask of (coin, side, fee_token): 0 one
 * coin, side and fee token; 1 one coin and side; 6 one fee token across coins; 7 all.
 * `fee_count` is how many of the group's fills carry a fee at all.
 */
export interface FillGroupRow {
  level: number
  coin: string | null
  side: string | null
  fee_token: string | null
  count: number
  fee_count: number
  fee: string
  builder_fee: string
  closed_pnl: string
  size: string
  notional: string
}

const FILL_GROUPS = `
  SELECT GROUPING(coin, side, fee_token)::int AS level, coin, side, fee_token,
         count(*)::int AS count, count(fee)::int AS fee_count,
         trim_scale(coalesce(sum(fee), 0)) AS fee,
         trim_scale(coalesce(sum(builder_fee), 0)) AS builder_fee,
         trim_scale(coalesce(sum(closed_pnl), 0)) AS closed_pnl,
         trim_scale(coalesce(sum(sz), 0)) AS size,
         trim_scale(coalesce(sum(px * sz), 0)) AS notional
    FROM twap_fill
   WHERE wallet = $1 AND time >= $2::timestamptz AND time <= $3::timestamptz
     AND ($4::text IS NULL OR coin = $4)
   GROUP BY GROUPING SETS ((coin, side, fee_token), (coin, side), (fee_token), ())
   ORDER BY level, coin, side, fee_token`

/** The TWAP and fill groups of `range`, both queries at once. */
export async function walletSummaryRows(db: Queryable, range: SummaryRange): Promise<{ twaps: TwapGroupRow[]; fills: FillGroupRow[] }> {
  const params = [range.wallet, range.start, range.end, range.asset]
  const [twaps, fills] = await Promise.all([
    db.query<TwapGroupRow>(TWAP_GROUPS, params, { planPerCall: true }),
    db.query<FillGroupRow>(FILL_GROUPS, params, { planPerCall: true }),
  ])
  return { twaps: twaps.rows, fills: fills.rows }
}
