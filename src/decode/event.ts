import { normalizeTime } from './time.ts'
import { boolean } from './boolean.ts'
import { decimalText } from './decimal.ts'
import { int32, integerText } from './integer.ts'
import { memoizeStrings } from './memoize.ts'
import { statusText, text, wallet } from './text.ts'

/**
 * The statuses dataset in one table: per field, the source column it is read from, how its
 * value is read, its column of `twap_status` and that column's type, and its name in the
 * API. The decoded event type, the decoder, the COPY column list and encoder, the SELECT
 * lists, the API's TWAP objects and schemas, the CSV columns and the parquet writers (the
 * sample's and the tests') all derive from it, so a field is one entry here and one
 * migration. Its order is the order of the CSV export's columns.
 */

/** How a source value becomes the exact text (or number, or flag) PostgreSQL receives. */
export type StatusKind = 'id' | 'wallet' | 'text' | 'status' | 'decimal' | 'int32' | 'bool' | 'time'

export interface StatusFieldSpec {
  /** The property of a decoded `TwapEvent`. */
  key: string
  /** Column of the source files, matched exactly, else case-insensitively. */
  source: string
  /** The parquet type our own writers (the sample, the tests) give the source column. */
  parquet: 'STRING' | 'INT64' | 'INT32' | 'BOOLEAN'
  kind: StatusKind
  /** Column of `twap_status`. */
  column: string
  /** The column's SQL type, as the migrations declare it. */
  sql: string
  /** Name in the API: `executed.size` is `size` inside the `executed` object, `executed_size` in CSV. */
  api: string
  /**
   * `twap`: a fact of the TWAP, repeated on each of its events (`asset`); `event`: what one
   * event says (`status`, executed so far). `id` and `wallet` are the TWAP's key and owner:
   * a TWAP object leaves out the wallet its page names, a history row the id its history is of.
   */
  scope: 'id' | 'wallet' | 'twap' | 'event'
  /** What the field means, for the API's documentation. */
  doc?: string
  example?: string | number | boolean
  /** An event without a usable value is rejected. */
  required?: true
}

export const STATUS_FIELDS = [
  { key: 'twapId', source: 'twap_id', parquet: 'INT64', kind: 'id', column: 'twap_id', sql: 'text', api: 'twap_id', scope: 'id', required: true, example: '123456' },
  { key: 'wallet', source: 'state_user', parquet: 'STRING', kind: 'wallet', column: 'wallet', sql: 'text', api: 'wallet', scope: 'wallet', required: true },
  { key: 'asset', source: 'state_coin', parquet: 'STRING', kind: 'text', column: 'asset', sql: 'text', api: 'asset', scope: 'twap', example: 'SOL' },
  { key: 'side', source: 'state_side', parquet: 'STRING', kind: 'text', column: 'side', sql: 'text', api: 'side', scope: 'twap' },
  { key: 'status', source: 'status', parquet: 'STRING', kind: 'status', column: 'status', sql: 'text', api: 'status', scope: 'event' },
  { key: 'placedAt', source: 'state_timestamp', parquet: 'INT64', kind: 'time', column: 'placed_at', sql: 'timestamp with time zone', api: 'created_at', scope: 'twap', doc: 'When the TWAP was placed, ISO-8601 UTC.' },
  { key: 'ts', source: 'time', parquet: 'STRING', kind: 'time', column: 'ts', sql: 'timestamp with time zone', api: 'ts', scope: 'event', required: true },
  { key: 'durationMinutes', source: 'state_minutes', parquet: 'INT32', kind: 'int32', column: 'duration_minutes', sql: 'integer', api: 'duration_minutes', scope: 'twap', example: 30 },
  { key: 'sizeRequested', source: 'state_sz', parquet: 'STRING', kind: 'decimal', column: 'size_requested', sql: 'numeric', api: 'requested_size', scope: 'twap' },
  { key: 'sizeExecuted', source: 'state_executedSz', parquet: 'STRING', kind: 'decimal', column: 'size_executed', sql: 'numeric', api: 'executed.size', scope: 'event' },
  { key: 'notionalExecuted', source: 'state_executedNtl', parquet: 'STRING', kind: 'decimal', column: 'notional_executed', sql: 'numeric', api: 'executed.notional', scope: 'event' },
  { key: 'reduceOnly', source: 'state_reduceOnly', parquet: 'BOOLEAN', kind: 'bool', column: 'reduce_only', sql: 'boolean', api: 'reduce_only', scope: 'twap' },
  { key: 'randomize', source: 'state_randomize', parquet: 'BOOLEAN', kind: 'bool', column: 'randomize', sql: 'boolean', api: 'randomize', scope: 'twap' },
] as const satisfies readonly StatusFieldSpec[]

export type StatusField = (typeof STATUS_FIELDS)[number]
export type StatusColumn = StatusField['column']

/** The value a field of each kind holds once decoded, and as the database gives it back. */
export type KindValue<K extends StatusKind> = K extends 'int32' ? number : K extends 'bool' ? boolean : string

/**
 * One TWAP status event, decoded from a source row and ready to store: every value is
 * already in the exact text form PostgreSQL receives (decimals as their digits, times as
 * ISO-8601 UTC to the microsecond, ids as decimal text), so nothing between decode and COPY
 * can lose precision. An optional field left out is null; the decoder sets every one.
 * `raw` is the whole source row as JSON text, integers past 2^53 as decimal strings.
 */
export type TwapEvent = {
  -readonly [F in Extract<StatusField, { required: true }> as F['key']]: KindValue<F['kind']>
} & {
  -readonly [F in Exclude<StatusField, { required: true }> as F['key']]?: KindValue<F['kind']> | null
} & { raw: string }

/** The value readers of each kind: null when the value is missing or not of that kind. */
export function readerOf(kind: StatusKind): (value: unknown) => string | number | boolean | null {
  switch (kind) {
    case 'id':
      return integerText
    case 'wallet':
      // A file holds few wallets, each on many rows: check each once.
      return memoizeStrings(wallet)
    case 'text':
      return text
    case 'status':
      return statusText
    case 'decimal':
      return decimalText
    case 'int32':
      return int32
    case 'bool':
      return boolean
    case 'time':
      return normalizeTime
  }
}

/** The kinds whose text can hold a tab, newline or backslash, so COPY must escape it. */
export const ESCAPED_KINDS: ReadonlySet<StatusKind> = new Set(['text', 'status'])

/** A source row that could not become an event, with the reason a user can act on. */
export interface RejectedRow {
  /** Zero-based row number within the file. */
  row: number
  reason: string
}
