import { isSafeNumber, parse } from 'lossless-json'
import { FILL_FIELDS } from '../decode/fill.ts'
import { isoFromPg } from '../store/db.ts'
import type { FillRow, FillTotals } from '../store/fill-queries.ts'
import type { Fill } from './schemas/fills.ts'

const TIME_COLUMNS: ReadonlySet<string> = new Set(FILL_FIELDS.filter((f) => f.kind === 'epoch-ms' || f.kind === 'time').map((f) => f.column))

/** A stored fill as the API shows it: every column of the field table, times in ISO-8601, and the raw fill. */
export function toFill(row: FillRow): Fill {
  const fill: Record<string, unknown> = {}
  for (const { column } of FILL_FIELDS) {
    const value = row[column]
    fill[column] = TIME_COLUMNS.has(column) ? isoFromPg(value as string | null) : value
  }
  fill.s3_object_key = row.s3_object_key
  fill.raw = row.raw_payload === null ? null : rawFill(row.raw_payload)
  return fill as Fill
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
  const { raw: _raw, ...rest } = toFill(row)
  return rest
}

/** Fees by token as one CSV cell: `USDC:0.12;HYPE:0.001`. */
export function feesCell(totals: FillTotals): string {
  return totals.fees.map((f) => `${f.token ?? ''}:${f.amount}`).join(';')
}
