import type { Queryable } from '#src/store/db.ts'
import { twapSettlement, type FillTotals } from '#src/store/fill-queries.ts'
import { feesCell } from './fill-json.ts'
import type { RawTexts } from './raw-json.ts'
import { twapEventsInRange, type TwapEventRow, type TwapHistoryRow as HistoryRowFromDb, type TwapRange, type TwapSummaryRow } from '#src/store/twap-queries.ts'
import type { Twap, TwapHistoryRow } from './schemas/twaps.ts'
import {
  csvCells, EVENT_CSV_FIELDS, EVENT_CSV_STATUS_COLUMNS, EVENT_FIELDS, HISTORY_TWAP_FIELDS, showFields, TWAP_CSV_COLUMNS, TWAP_CSV_FIELDS, TWAP_FIELDS,
} from './status-fields.ts'

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
  const twap: Record<string, unknown> = {}
  showFields(twap, TWAP_FIELDS, row)
  twap.avg_price = row.avg_price
  twap.raw = raws.hold(row.raw_payload)
  twap.reconciled = null
  if (events) twap.events = events.map((event) => toEvent(event, raws))
  return twap as Twap
}

function toEvent(row: TwapEventRow, raws: RawTexts): TwapEvent {
  // By the event's fields alone, so that a history row (a superset) gives the same event.
  const event: Record<string, unknown> = {}
  showFields(event, EVENT_FIELDS, row)
  event.avg_price = row.avg_price
  event.raw = raws.hold(row.raw_payload)
  return event as TwapEvent
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
  const history: Record<string, unknown> = toEvent(row, raws)
  showFields(history, HISTORY_TWAP_FIELDS, row)
  history.s3_object_key = row.s3_object_key
  return history as TwapHistoryRow
}

/** The CSV export's columns, in order: one line per TWAP, its status fields and then its fills'. */
export const CSV_COLUMNS = [
  ...TWAP_CSV_COLUMNS,
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
    ...csvCells(TWAP_CSV_FIELDS, row),
    wallet,
    avg_price: row.avg_price,
    fills_count: fills?.count ?? null,
    fills_size: fills?.size ?? null,
    fills_notional: fills?.notional ?? null,
    fills_avg_price: fills?.avg_price ?? null,
    fills_fees: fills ? feesCell(fills) : null,
    fills_builder_fee: fills?.builder_fee ?? null,
    fills_closed_pnl: fills?.closed_pnl ?? null,
    reconciled,
  } as CsvRecord
}

/**
 * The columns of the CSV export with `latest_per_twap=false`, in order: one line per event,
 * its TWAP's columns repeated on each, then the event's own.
 */
export const EVENT_CSV_COLUMNS = EVENT_CSV_STATUS_COLUMNS

export type EventCsvRecord = Record<string, string | number | boolean | null>

/** The events of `row` (oldest first) as CSV records of `wallet`'s export, one per event. */
export function toEventCsvRecords(wallet: string, row: TwapSummaryRow, events: readonly TwapEventRow[]): EventCsvRecord[] {
  const twap = { ...row, wallet }
  return events.map((event) => ({ ...csvCells(EVENT_CSV_FIELDS, { ...twap, ...event }), avg_price: event.avg_price }) as EventCsvRecord)
}

/** The events in `range` of the TWAPs of `rows` (one query), by TWAP id, oldest first. */
export async function eventsOf(db: Queryable, range: TwapRange, rows: readonly TwapSummaryRow[]): Promise<Map<string, TwapEventRow[]>> {
  return groupEvents(await twapEventsInRange(db, range, rows.map((r) => r.twap_id)))
}
