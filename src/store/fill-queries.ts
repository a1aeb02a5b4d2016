import { FILL_FIELDS, type FillColumn } from '#src/decode/fill.ts'
import type { Queryable } from './db.ts'

/**
 * The API's reads of `twap_fill`, as SQL text with parameters, run unchanged on PostgreSQL
 * and PGlite. Decimals come back as NUMERIC text, ids as their digits, times as
 * timestamptz text (see `Queryable`); sums are computed by the database, exactly.
 */

/**
 * One stored fill: the field table's columns, its row id and raw fill as JSON text (the
 * drivers' JSON parsing would round the ids past 2^53).
 */
export type FillRow = { [K in FillColumn]: string | boolean | null } & {
  id: string
  s3_object_key: string
  raw_payload: string | null
}

const SELECT_LIST = ['id', ...FILL_FIELDS.map((f) => `"${f.column}"`), 's3_object_key'].join(', ')

const TWAP_FILLS = `
  SELECT ${SELECT_LIST}, raw_payload::text AS raw_payload
    FROM twap_fill
   WHERE twap_id = $1
   ORDER BY time, id`

/** Every fill of one TWAP, oldest first. */
export async function twapFills(db: Queryable, twapId: string): Promise<FillRow[]> {
  const { rows } = await db.query<FillRow>(TWAP_FILLS, [twapId])
  return rows
}

/** What a TWAP's fills add up to; decimals exact, as text. */
export interface FillTotals {
  count: number
  size: string
  notional: string
  avg_price: string | null
  fees: { token: string | null; amount: string }[]
  builder_fee: string
  closed_pnl: string
}

// One row per TWAP asked for, with its verdict (`twap_reconciliation`) and, when it has
// fills, their totals: notional is Σ px·sz, the average price notional ÷ size, both in
// NUMERIC (trailing zeros trimmed), so the totals are exactly the sums of the fills shown.
// The fees per token come as JSON text of [token, amount] pairs, amounts as strings, so
// no driver parses them into floats.
const TOTALS = `
  SELECT i.twap_id, r.reconciled, t.count, t.size, t.notional, t.avg_price, t.builder_fee, t.closed_pnl, f.fees
    FROM unnest($1::text[]) AS i(twap_id)
    LEFT JOIN twap_reconciliation r ON r.twap_id = i.twap_id
    LEFT JOIN LATERAL (
      SELECT count(*)::int AS count,
             trim_scale(sum(sz)) AS size,
             trim_scale(sum(px * sz)) AS notional,
             trim_scale(sum(px * sz) / NULLIF(sum(sz), 0)) AS avg_price,
             trim_scale(coalesce(sum(builder_fee), 0)) AS builder_fee,
             trim_scale(coalesce(sum(closed_pnl), 0)) AS closed_pnl
        FROM twap_fill WHERE twap_id = i.twap_id
      HAVING count(*) > 0) t ON true
    LEFT JOIN LATERAL (
      SELECT json_agg(json_build_array(token, amount) ORDER BY token)::text AS fees
        FROM (SELECT fee_token AS token, trim_scale(sum(fee))::text AS amount
                FROM twap_fill WHERE twap_id = i.twap_id AND fee IS NOT NULL
               GROUP BY fee_token) g) f ON true`

type TotalsRow = Omit<FillTotals, 'fees' | 'count'> & { twap_id: string; reconciled: boolean | null; count: number | null; fees: string | null }

/** What each TWAP of `twapIds` has: the totals of its fills when it has any, and its reconciliation verdict. */
export interface TwapSettlement {
  totals: Map<string, FillTotals>
  /** true, false, or null (undecided, or not judged). */
  verdicts: Map<string, boolean | null>
}

/** The totals of the fills of each TWAP of `twapIds` that has any, and the verdict of each (one query for a whole page). */
export async function twapSettlement(db: Queryable, twapIds: readonly string[]): Promise<TwapSettlement> {
  const totals = new Map<string, FillTotals>()
  const verdicts = new Map<string, boolean | null>()
  if (twapIds.length === 0) return { totals, verdicts }
  const { rows } = await db.query<TotalsRow>(TOTALS, [twapIds])
  for (const { twap_id: twapId, reconciled, count, fees, ...sum } of rows) {
    verdicts.set(twapId, reconciled)
    if (count === null) continue
    const pairs = fees === null ? [] : JSON.parse(fees) as [string | null, string][]
    totals.set(twapId, { count, ...sum, fees: pairs.map(([token, amount]) => ({ token, amount })) })
  }
  return { totals, verdicts }
}

/** The totals of the fills of each TWAP of `twapIds` that has any. */
export async function fillTotals(db: Queryable, twapIds: readonly string[]): Promise<Map<string, FillTotals>> {
  return (await twapSettlement(db, twapIds)).totals
}

/** Totals of a TWAP without fills. */
export const NO_FILLS: FillTotals = { count: 0, size: '0', notional: '0', avg_price: null, fees: [], builder_fee: '0', closed_pnl: '0' }

/** A wallet's fills in `[start, end]` (ISO-8601), optionally of one coin or one TWAP. */
export interface FillRange {
  wallet: string
  start: string
  end: string
  coin: string | null
  twapId: string | null
}

/** Where a fill stands in the order `(time, id)`, newest first; `time` is ISO-8601. */
export interface FillPosition {
  time: string
  id: string
}

const MAX_ID = '9223372036854775807'

// Walks the wallet's index `(wallet, time, id)` backwards from the cursor (or from `end`).
// `raw_payload` only when asked ($8): the CSV export has no use for it.
const WALLET_FILLS = `
  SELECT ${SELECT_LIST}, CASE WHEN $8::boolean THEN raw_payload::text END AS raw_payload
    FROM twap_fill
   WHERE wallet = $1
     AND time >= $2::timestamptz AND time <= $3::timestamptz
     AND ($4::text IS NULL OR coin = $4)
     AND ($5::text IS NULL OR twap_id = $5)
     AND (time, id) < ($6::timestamptz, $7::bigint)
   ORDER BY time DESC, id DESC
   LIMIT $9`

/** Up to `limit` fills of `range` after `after` (or from the newest), newest first. */
export async function walletFills(db: Queryable, range: FillRange, after: FillPosition | null, limit: number, withRaw = true): Promise<FillRow[]> {
  // The first page starts just after the largest id at `end`, so fills at `end` are in it.
  const from = after ?? { time: range.end, id: MAX_ID }
  const { rows } = await db.query<FillRow>(WALLET_FILLS, [
    range.wallet, range.start, range.end, range.coin, range.twapId, from.time, from.id, withRaw, limit,
  ])
  return rows
}

/** Whether any status event or fill of the TWAP is stored. */
export async function twapKnown(db: Queryable, twapId: string): Promise<boolean> {
  const { rows } = await db.query<{ known: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM twap_status WHERE twap_id = $1) OR EXISTS (SELECT 1 FROM twap_fill WHERE twap_id = $1) AS known', [twapId])
  return rows[0]?.known ?? false
}
