import { isoFromPg, type Queryable } from '../store/db.ts'
import { twapSettlement, type FillTotals } from '../store/fill-queries.ts'
import { feesCell } from './fill-json.ts'
import type { RawTexts } from './raw-json.ts'
import { twapEventsInRange, type TwapEventRow, type TwapHistoryRow as HistoryRowFromDb, type TwapRange, type TwapSummaryRow } from '../store/twap-queries.ts'
import type { Twap, TwapHistoryRow } from './schemas/twaps.ts'

type TwapEvent = NonNullable<Twap['events']>[number]

/**
 * The TWAPs of `rows` as the API shows them, each with its `events` in `range` when
 * `withEvents` (`latest_per_twap=false`; one query for all of them) and its `fills` totals
 * when fills of it are stored, and its raw payloads held by `raws`. Shared by the JSON page
 * and the NDJSON export, so a line of the export is exactly a TWAP of the page.
 */
export async function toTwaps(db: Queryable, range: TwapRange, rows: readonly TwapSummaryRow[], withEvents: boolean, raws: RawTexts): Promise<Twap[]> {
  const ids = rows.map((r) => r.twap_id)
  const [events, { totals, verdicts }] = await Promise.all([
    withEvents ? eventsOf(db, range, rows) : undefined,
    twapSettlement(db, ids),
  ])
  return rows.map((row) => {
    const twap = toTwap(row, raws, events ? events.get(row.twap_id) ?? [] : undefined)
    const fills = totals.get(row.twap_id)
    if (fills) twap.fills = fills
    twap.reconciled = verdicts.get(row.twap_id) ?? null
    return twap
  })
}

/** A TWAP from its summary row and, when given, its events in the range. */
function toTwap(row: TwapSummaryRow, raws: RawTexts, events?: readonly TwapEventRow[]): Twap {
  const twap: Twap = {
    twap_id: row.twap_id,
    asset: row.asset,
    side: row.side,
    status: row.status,
    duration_minutes: row.duration_minutes,
    latest_ts: isoFromPg(row.ts),
    executed: { size: row.size_executed, notional: row.notional_executed },
    requested_size: row.size_requested,
    avg_price: row.avg_price,
    created_at: isoFromPg(row.placed_at),
    reduce_only: row.reduce_only,
    randomize: row.randomize,
    raw: raws.hold(row.raw_payload),
    reconciled: null,
  }
  if (events) twap.events = events.map((event) => toEvent(event, raws))
  return twap
}

function toEvent(row: TwapEventRow, raws: RawTexts): TwapEvent {
  // Field by field, so that a history row (a superset) gives the same event.
  return {
    ts: isoFromPg(row.ts),
    status: row.status,
    executed: { size: row.size_executed, notional: row.notional_executed },
    avg_price: row.avg_price,
    raw: raws.hold(row.raw_payload),
  }
}

/** Events grouped by TWAP id, each group keeping the query's order (oldest first). */
function groupEvents(rows: readonly TwapEventRow[]): Map<string, TwapEventRow[]> {
  const groups = new Map<string, TwapEventRow[]>()
  for (const row of rows) {
    const group = groups.get(row.twap_id)
    if (group) group.push(row)
    else groups.set(row.twap_id, [row])
  }
  return groups
}

/** One event of a TWAP's history: the event as in a TWAP's `events`, then its TWAP's fields. */
export function toHistoryRow(row: HistoryRowFromDb, raws: RawTexts): TwapHistoryRow {
  return {
    ...toEvent(row, raws),
    wallet: row.wallet,
    asset: row.asset,
    side: row.side,
    duration_minutes: row.duration_minutes,
    requested_size: row.size_requested,
    created_at: isoFromPg(row.placed_at),
    reduce_only: row.reduce_only,
    randomize: row.randomize,
    s3_object_key: row.s3_object_key,
  }
}

/** The CSV export's columns, in order: one line per TWAP. */
export const CSV_COLUMNS = [
  'twap_id', 'wallet', 'asset', 'side', 'status', 'created_at', 'latest_ts', 'duration_minutes',
  'requested_size', 'executed_size', 'executed_notional', 'avg_price', 'reduce_only', 'randomize',
  'fills_count', 'fills_size', 'fills_notional', 'fills_avg_price', 'fills_fees', 'fills_builder_fee', 'fills_closed_pnl',
  'reconciled',
] as const

export type CsvRecord = Record<(typeof CSV_COLUMNS)[number], string | number | boolean | null>

/**
 * A TWAP as one CSV record of `wallet`'s export; the `fills_` cells are empty when no fills
 * of it are stored, `reconciled` when it is not decided.
 */
export function toCsvRecord(wallet: string, row: TwapSummaryRow, fills?: FillTotals, reconciled: boolean | null = null): CsvRecord {
  return {
    twap_id: row.twap_id,
    wallet,
    asset: row.asset,
    side: row.side,
    status: row.status,
    created_at: isoFromPg(row.placed_at),
    latest_ts: isoFromPg(row.ts),
    duration_minutes: row.duration_minutes,
    requested_size: row.size_requested,
    executed_size: row.size_executed,
    executed_notional: row.notional_executed,
    avg_price: row.avg_price,
    reduce_only: row.reduce_only,
    randomize: row.randomize,
    fills_count: fills?.count ?? null,
    fills_size: fills?.size ?? null,
    fills_notional: fills?.notional ?? null,
    fills_avg_price: fills?.avg_price ?? null,
    fills_fees: fills ? feesCell(fills) : null,
    fills_builder_fee: fills?.builder_fee ?? null,
    fills_closed_pnl: fills?.closed_pnl ?? null,
    reconciled,
  }
}

/**
 * The columns of the CSV export with `latest_per_twap=false`, in order: one line per event,
 * its TWAP's columns repeated on each, then the event's own.
 */
export const EVENT_CSV_COLUMNS = [
  'twap_id', 'wallet', 'asset', 'side', 'created_at', 'duration_minutes', 'requested_size', 'reduce_only', 'randomize',
  'ts', 'status', 'executed_size', 'executed_notional', 'avg_price',
] as const

export type EventCsvRecord = Record<(typeof EVENT_CSV_COLUMNS)[number], string | number | boolean | null>

/** The events of `row` (oldest first) as CSV records of `wallet`'s export, one per event. */
export function toEventCsvRecords(wallet: string, row: TwapSummaryRow, events: readonly TwapEventRow[]): EventCsvRecord[] {
  return events.map((event) => ({
    twap_id: row.twap_id,
    wallet,
    asset: row.asset,
    side: row.side,
    created_at: isoFromPg(row.placed_at),
    duration_minutes: row.duration_minutes,
    requested_size: row.size_requested,
    reduce_only: row.reduce_only,
    randomize: row.randomize,
    ts: isoFromPg(event.ts),
    status: event.status,
    executed_size: event.size_executed,
    executed_notional: event.notional_executed,
    avg_price: event.avg_price,
  }))
}

/** The events in `range` of the TWAPs of `rows` (one query), by TWAP id, oldest first. */
export async function eventsOf(db: Queryable, range: TwapRange, rows: readonly TwapSummaryRow[]): Promise<Map<string, TwapEventRow[]>> {
  return groupEvents(await twapEventsInRange(db, range, rows.map((r) => r.twap_id)))
}
