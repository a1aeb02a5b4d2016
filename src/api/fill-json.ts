import { isSafeNumber, parse } from 'lossless-json'
import { FILL_FIELDS } from '#src/decode/fill.ts'
import { isoFromPg } from '#src/store/db.ts'
import type { FillRow, FillTotals } from '#src/store/fill-queries.ts'
import type { RawTexts } from './raw-json.ts'
import type { Fill } from './schemas/fills.ts'

const TIME_COLUMNS: ReadonlySet<string> = new Set(FILL_FIELDS.filter((f) => f.kind === 'epoch-ms' || f.kind === 'time').map((f) => f.column))

/**
 * A stored fill as the API shows it: every column of the field table, times in ISO-8601,
 * and the raw fill, held by `raws` as the stored text when that text can be passed on as
 * it is (see `passable`), else rewritten by `rawFill`.
 */
export function toFill(row: FillRow, raws?: RawTexts): Fill {
  const fill: Record<string, unknown> = {}
  for (const { column } of FILL_FIELDS) {
    const value = row[column]
    fill[column] = TIME_COLUMNS.has(column) ? isoFromPg(value as string | null) : value
  }
  fill.s3_object_key = row.s3_object_key
  const text = row.raw_payload
  fill.raw = text === null ? null : raws && passable(text) ? raws.hold(text) : rawFill(text)
  return fill as Fill
}

// Sixteen or more digits and points in a row, in a number or inside a string.
const LONG_RUN = /[0-9][0-9.]{15,}/g

/**
 * Whether `rawFill` would leave every number of `text` as it is, so the text can be passed
 * on unparsed: a number of fifteen characters or fewer (digits and point; PostgreSQL
 * writes jsonb numbers without exponents) has at most fifteen significant digits, which a
 * double holds exactly, and each longer run must pass the same test `rawFill` applies. A
 * run inside a string that fails it only sends the text the slow way.
 */
function passable(text: string): boolean {
  for (const [run] of text.matchAll(LONG_RUN)) if (!isSafeNumber(run)) return false
  return true
}

/**
 * The stored fill as JSON a client can read without loss: numbers a double holds exactly
 * stay numbers, integers past 2^53 (oid, tid) become their digits as strings, as the raw
 * rows of the status events do.
 */
function rawFill(text: string): unknown {
  return parse(text, null, (digits) => (isSafeNumber(digits) ? Number(digits) : digits))
}

/** The fills CSV's columns, in order: the field table's, then the object. */
export const FILL_CSV_COLUMNS = [...FILL_FIELDS.map((f) => f.column), 's3_object_key'] as const

/** A fill as one CSV record. */
export function toFillCsvRecord(row: FillRow): Record<string, unknown> {
  const { raw: _raw, ...rest } = toFill({ ...row, raw_payload: null })
  return rest
}

/** Fees by token as one CSV cell: `USDC:0.12;HYPE:0.001`. */
export function feesCell(totals: FillTotals): string {
  return totals.fees.map((f) => `${f.token ?? ''}:${f.amount}`).join(';')
}
