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
