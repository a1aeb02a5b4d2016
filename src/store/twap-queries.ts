import { STATUS_FIELDS, type KindValue, type StatusField } from '#src/decode/event.ts'
import { isoFromPg, type Queryable } from './db.ts'

/**
 * The API's reads, as SQL text with parameters, run unchanged on PostgreSQL and PGlite.
 * Times go in as ISO-8601 text and come back as PostgreSQL's timestamptz text, decimals
 * come back as NUMERIC text (see `Queryable`), so nothing is rounded on the way.
 */

/** A wallet's events in `[start, end]` (ISO-8601), optionally of one asset only. */
export interface TwapRange {
  wallet: string
  start: string
  end: string
  asset: string | null
}

/**
 * Where a row stands in the page order `(ts, is_terminal, id)`: a TWAP's summary is its
 * greatest row in the range, and TWAPs are listed greatest first. `ts` is ISO-8601.
 */
export interface PagePosition {
  ts: string
  isTerminal: boolean
  id: string
}

/**
 * The statuses table's columns of one stored event, as the database gives them back:
 * times as timestamptz text, decimals as NUMERIC text, ids as text.
 */
export type StatusRow = {
  -readonly [F in StatusField as F['column']]: KindValue<F['kind']> | (F extends { required: true } ? never : null)
}

/** The statuses table's columns of one row of `twap_status`, each prefixed by `alias.`. */
export function statusColumns(alias: string, fields: readonly StatusField[] = STATUS_FIELDS): string {
  return fields.map((f) => `${alias}.${f.column}`).join(', ')
}

/** Executed notional ÷ executed size of an event, divided in NUMERIC and trimmed (9050.0 / 100.0 gives 90.5). */
export function avgPrice(alias: string): string {
  return `trim_scale(${alias}.notional_executed / NULLIF(${alias}.size_executed, 0))`
}

/** One TWAP of a page: its latest event in the range. */
export interface TwapSummaryRow extends StatusRow {
  id: string
  is_terminal: boolean
  avg_price: string | null
  /** The source row as JSON text. */
  raw_payload: string | null
}

// The page walks the wallet's index `(wallet, ts, is_terminal, id)` backwards from the
// cursor (or from `end`) and keeps a row only when its TWAP has no later row in the range,
// which a probe of the event key `(twap_id, ts, …)` answers. The first `limit` rows kept are
// the page, so its cost follows the page size, not the wallet's history: aggregating all
// of a wallet's rows per TWAP and sorting them took seconds for a bot with 300,000 events.
// The first page passes `end` and the largest id as its cursor, so one text serves both.
// `current_schema()` is there for its PARALLEL UNSAFE label alone: it keeps PostgreSQL from
// planning a parallel scan, which the planner prices below this serial walk for deep pages
// of a big wallet but which costs twice as much (37 ms against 18 ms for 2,000 TWAPs),
// because starting workers costs more than the few thousand rows a page reads.
// `raw_payload` only when asked ($9), and as text, which the API passes on unparsed: the
// CSV export has no use for it.
export const PAGE = `
  SELECT t.id, t.is_terminal, ${statusColumns('t')}, ${avgPrice('t')} AS avg_price,
         CASE WHEN $9::boolean THEN t.raw_payload::text END AS raw_payload
    FROM twap_status t
   WHERE t.wallet = $1
     AND t.ts >= $2::timestamptz AND t.ts <= $3::timestamptz
     AND ($4::text IS NULL OR t.asset = $4)
     AND (t.ts, t.is_terminal, t.id) < ($5::timestamptz, $6::boolean, $7::bigint)
     AND NOT EXISTS (
           SELECT 1 FROM twap_status l
            WHERE l.twap_id = t.twap_id AND l.wallet = t.wallet
              AND l.ts <= $3::timestamptz
              AND (l.ts, l.is_terminal, l.id) > (t.ts, t.is_terminal, t.id))
     AND current_schema() IS NOT NULL
   ORDER BY t.ts DESC, t.is_terminal DESC, t.id DESC
   LIMIT $8`

export const MAX_ID = '9223372036854775807'

/**
 * Up to `limit` TWAPs of `range`, newest first, each as its latest row in the range,
 * starting after `after` (the last TWAP of the previous page) or from the newest.
 * `raw_payload` is null unless `withRaw`.
 */
export async function twapPage(db: Queryable, range: TwapRange, after: PagePosition | null, limit: number, withRaw = true): Promise<TwapSummaryRow[]> {
  const from = after ?? { ts: range.end, isTerminal: true, id: MAX_ID }
  const { rows } = await db.query<TwapSummaryRow>(PAGE, [
    range.wallet, range.start, range.end, range.asset, from.ts, from.isTerminal, from.id, limit, withRaw,
  ])
  return rows
}

/** Where a summary row stands, to resume the next page after it. */
export function positionOf(row: TwapSummaryRow): PagePosition {
  return { ts: isoFromPg(row.ts), isTerminal: row.is_terminal, id: row.id }
}

/** The fields an event says for itself (its time, status, executed so far), beside its TWAP's id. */
const EVENT_FIELDS = STATUS_FIELDS.filter((f) => f.scope === 'event' || f.scope === 'id')
type EventField = (typeof EVENT_FIELDS)[number]

/** Every event of some TWAPs within the range, oldest first per TWAP. */
export type TwapEventRow = Pick<StatusRow, EventField['column']> & {
  avg_price: string | null
  /** The source row as JSON text. */
  raw_payload: string | null
}

// Probes the event key once per TWAP of the page: a page's events cost the page, too.
const EVENTS = `
  SELECT ${statusColumns('e', EVENT_FIELDS)}, ${avgPrice('e')} AS avg_price, e.raw_payload::text AS raw_payload
    FROM twap_status e
   WHERE e.twap_id = ANY($1::text[]) AND e.wallet = $2
     AND e.ts >= $3::timestamptz AND e.ts <= $4::timestamptz
     AND ($5::text IS NULL OR e.asset = $5)
   ORDER BY e.twap_id, e.ts, e.is_terminal, e.id`

/** The events in `range` of the TWAPs `twapIds` (one query for a whole page), oldest first. */
export async function twapEventsInRange(db: Queryable, range: TwapRange, twapIds: readonly string[]): Promise<TwapEventRow[]> {
  if (twapIds.length === 0) return []
  const { rows } = await db.query<TwapEventRow>(EVENTS, [twapIds, range.wallet, range.start, range.end, range.asset])
  return rows
}

/** One stored event of a TWAP, as its history lists it. */
export interface TwapHistoryRow extends TwapSummaryRow {
  s3_object_key: string
}

const HISTORY = `
  SELECT h.id, h.is_terminal, ${statusColumns('h')}, ${avgPrice('h')} AS avg_price,
         h.s3_object_key, h.raw_payload::text AS raw_payload
    FROM twap_status h
   WHERE h.twap_id = $1
   ORDER BY h.ts DESC, h.is_terminal DESC, h.id DESC`

/** Every stored event of one TWAP, newest first (on equal times the terminal one first). */
export async function twapHistory(db: Queryable, twapId: string): Promise<TwapHistoryRow[]> {
  const { rows } = await db.query<TwapHistoryRow>(HISTORY, [twapId])
  return rows
}
