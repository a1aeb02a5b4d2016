import type { Queryable } from './db.ts'

/**
 * The reads behind `POST /info`: each returns rows already written as Hyperliquid's JSON,
 * built by PostgreSQL. Building them in SQL is what keeps 64-bit ids exact: `twap_id` (text)
 * cast to NUMERIC and raw payloads (JSONB, whose numbers are NUMERIC) print every digit,
 * where a JavaScript number would round anything past 2^53.
 */

/** One `twapHistory` record as JSON text, with the event time in ms to page by. */
export interface InfoRow {
  json: string
  /** Epoch milliseconds of the row's time, as text (it is compared, never shown). */
  time_ms: string
}

// Hyperliquid writes an error as `{"status": "error", "description": "…"}`; the store keeps
// `error: …`. `executing` and `completed` are older tools' words for `activated` and
// `finished`. `time` is in seconds, as Hyperliquid's; `timestamp` (placement) in ms.
const TWAP_RECORD = `
  json_build_object(
    'time', floor(extract(epoch FROM ts))::bigint,
    'state', json_build_object(
      'coin', asset,
      'executedNtl', notional_executed::text,
      'executedSz', size_executed::text,
      'minutes', duration_minutes,
      'randomize', randomize,
      'reduceOnly', reduce_only,
      'side', side,
      'sz', size_requested::text,
      'timestamp', (extract(epoch FROM placed_at) * 1000)::bigint,
      'user', wallet),
    'status', CASE
      WHEN status ILIKE 'error%' THEN json_build_object(
        'status', 'error', 'description', regexp_replace(status, '^error:?\\s*', '', 'i'))
      ELSE json_build_object('status', CASE lower(status)
        WHEN 'executing' THEN 'activated'
        WHEN 'completed' THEN 'finished'
        ELSE status END)
      END,
    'twapId', twap_id::numeric)::text AS json,
  floor(extract(epoch FROM ts) * 1000)::bigint::text AS time_ms`

// Oldest first from `startTime`: the order a client pages in.
const TWAP_HISTORY_FROM = `
  SELECT ${TWAP_RECORD}
    FROM twap_status
   WHERE wallet = $1
     AND ts >= $2::timestamptz AND ts < $3::timestamptz
   ORDER BY ts, is_terminal, id
   LIMIT $4`

// The latest rows, read newest first through the wallet's index and handed back oldest first.
const TWAP_HISTORY_LATEST = `
  SELECT json, time_ms FROM (
    SELECT ${TWAP_RECORD}, ts, is_terminal, id
      FROM twap_status
     WHERE wallet = $1
     ORDER BY ts DESC, is_terminal DESC, id DESC
     LIMIT $2) latest
   ORDER BY ts, is_terminal, id`

/** A wallet's status events in `[from, to)` (ISO-8601 or `infinity`), oldest first, at most `limit` (null: all). */
export async function twapHistoryFrom(db: Queryable, wallet: string, from: string, to: string, limit: number | null): Promise<InfoRow[]> {
  return (await db.query<InfoRow>(TWAP_HISTORY_FROM, [wallet, from, to, limit])).rows
}

/** A wallet's latest `limit` status events, oldest first. */
export async function twapHistoryLatest(db: Queryable, wallet: string, limit: number): Promise<InfoRow[]> {
  return (await db.query<InfoRow>(TWAP_HISTORY_LATEST, [wallet, limit])).rows
}

// A slice fill as Hyperliquid's `userTwapSliceFills` writes it: `{fill, twapId}`, the fill
// being the node's own object with every field and digit it had. With aggregation, the
// fills one order made at one instant (a taker sweeping several makers) become one: sizes,
// fees and PnL summed, the price their size-weighted mean, the other fields the first's.
const FILL_RECORD = `
  json_build_object('fill', fill, 'twapId', twap_id::numeric)::text AS json,
  floor(extract(epoch FROM time) * 1000)::bigint::text AS time_ms`

const FILLS = `
  SELECT raw_payload AS fill, twap_id, time, id FROM twap_fill WHERE wallet = $1
     AND time >= $2::timestamptz AND time < $3::timestamptz`

const AGGREGATED_FILLS = `
  SELECT (array_agg(raw_payload ORDER BY tid::numeric))[1] || jsonb_strip_nulls(jsonb_build_object(
           'px', trim_scale(sum(px * sz) / NULLIF(sum(sz), 0))::text,
           'sz', trim_scale(sum(sz))::text,
           'fee', trim_scale(sum(fee))::text,
           'closedPnl', trim_scale(sum(closed_pnl))::text,
           'builderFee', trim_scale(sum(builder_fee))::text)) AS fill,
         twap_id, time, min(id) AS id
    FROM twap_fill WHERE wallet = $1
     AND time >= $2::timestamptz AND time < $3::timestamptz
   GROUP BY twap_id, oid, time`

const FILLS_FROM = (source: string) => `
  SELECT ${FILL_RECORD} FROM (${source}) f ORDER BY time, id LIMIT $4`

const FILLS_LATEST = `
  SELECT ${FILL_RECORD} FROM (
    SELECT raw_payload AS fill, twap_id, time, id
      FROM twap_fill WHERE wallet = $1
     ORDER BY time DESC, id DESC
     LIMIT $2) f
   ORDER BY time DESC, id DESC`

const FILLS_FROM_PLAIN = FILLS_FROM(FILLS)
const FILLS_FROM_AGGREGATED = FILLS_FROM(AGGREGATED_FILLS)

/**
 * A wallet's TWAP slice fills in `[from, to)` (ISO-8601 or `infinity`), oldest first, at
 * most `limit` (null: all), each order's fills of one instant merged when `aggregate`.
 */
export async function sliceFillsFrom(db: Queryable, wallet: string, from: string, to: string, limit: number | null, aggregate: boolean): Promise<InfoRow[]> {
  return (await db.query<InfoRow>(aggregate ? FILLS_FROM_AGGREGATED : FILLS_FROM_PLAIN, [wallet, from, to, limit])).rows
}

/** A wallet's latest `limit` TWAP slice fills, newest first. */
export async function sliceFillsLatest(db: Queryable, wallet: string, limit: number): Promise<InfoRow[]> {
  return (await db.query<InfoRow>(FILLS_LATEST, [wallet, limit])).rows
}
