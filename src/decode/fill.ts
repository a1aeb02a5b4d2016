import { isoFromEpoch } from './time.ts'
import { boolean } from './boolean.ts'
import { decimalText } from './decimal.ts'
import { integerText } from './integer.ts'
import { text, wallet } from './text.ts'

/**
 * The fills dataset in one table: per field, where it comes from (a key of the fill, the
 * user of the `[user, fill]` pair, or the block line), how its value is read, its SQL
 * column and type, and how COPY writes it. The decoded row type, the COPY column list and
 * encoder, the SELECT list and the API's fill objects all derive from it, so a field is
 * one entry here and one migration.
 */

/** How a source value becomes the exact text (or flag) PostgreSQL receives. */
export type FieldKind = 'id' | 'decimal' | 'text' | 'bool' | 'epoch-ms' | 'wallet' | 'time'

export interface FillFieldSpec {
  /** Column of `twap_fill`, and the field's name in the API. */
  column: string
  /** `fill`: a key of the fill object; `user`: the pair's first element; `block`: a key of the block line. */
  from: 'fill' | 'user' | 'block'
  /** The key read (the fill's own name, `block_number`, …). */
  source: string
  kind: FieldKind
  /** The column's SQL type, as the migration declares it. */
  sql: string
  /** A fill without a usable value is rejected. */
  required?: true
}

export const FILL_FIELDS = [
  { column: 'twap_id', from: 'fill', source: 'twapId', kind: 'id', sql: 'text', required: true },
  { column: 'wallet', from: 'user', source: 'user', kind: 'wallet', sql: 'text', required: true },
  { column: 'time', from: 'fill', source: 'time', kind: 'epoch-ms', sql: 'timestamp with time zone', required: true },
  { column: 'coin', from: 'fill', source: 'coin', kind: 'text', sql: 'text' },
  { column: 'side', from: 'fill', source: 'side', kind: 'text', sql: 'text' },
  { column: 'px', from: 'fill', source: 'px', kind: 'decimal', sql: 'numeric', required: true },
  { column: 'sz', from: 'fill', source: 'sz', kind: 'decimal', sql: 'numeric', required: true },
  { column: 'fee', from: 'fill', source: 'fee', kind: 'decimal', sql: 'numeric' },
  { column: 'fee_token', from: 'fill', source: 'feeToken', kind: 'text', sql: 'text' },
  { column: 'builder_fee', from: 'fill', source: 'builderFee', kind: 'decimal', sql: 'numeric' },
  { column: 'closed_pnl', from: 'fill', source: 'closedPnl', kind: 'decimal', sql: 'numeric' },
  { column: 'start_position', from: 'fill', source: 'startPosition', kind: 'decimal', sql: 'numeric' },
  { column: 'dir', from: 'fill', source: 'dir', kind: 'text', sql: 'text' },
  { column: 'crossed', from: 'fill', source: 'crossed', kind: 'bool', sql: 'boolean' },
  { column: 'oid', from: 'fill', source: 'oid', kind: 'id', sql: 'text', required: true },
  { column: 'tid', from: 'fill', source: 'tid', kind: 'id', sql: 'text', required: true },
  { column: 'hash', from: 'fill', source: 'hash', kind: 'text', sql: 'text' },
  { column: 'block_number', from: 'block', source: 'block_number', kind: 'id', sql: 'bigint' },
  { column: 'block_time', from: 'block', source: 'block_time', kind: 'time', sql: 'timestamp with time zone' },
] as const satisfies readonly FillFieldSpec[]

export type FillColumn = (typeof FILL_FIELDS)[number]['column']

/** One TWAP slice fill ready to store: every value in the text form PostgreSQL receives. */
export type TwapFill = { [K in FillColumn]: string | boolean | null } & {
  /** The fill object as JSON text, with the source's digits for every number. */
  raw: string
}

/** What a value of each kind must be, as a rejection says it. */
export const KIND_NOUNS: Record<FieldKind, string> = {
  id: 'an integer', decimal: 'a decimal number', text: 'text', bool: 'a boolean', 'epoch-ms': 'epoch milliseconds',
  wallet: '0x + 40 hex digits', time: 'an ISO-8601 time',
}

/** The kinds whose values are never text a user wrote, so COPY needs no escaping. */
export const PLAIN_KINDS: ReadonlySet<FieldKind> = new Set(['id', 'decimal', 'bool', 'epoch-ms', 'wallet', 'time'])

/** Reads one source value as its field's kind; null when missing or not of that kind. */
export function readField(kind: FieldKind, value: unknown): string | boolean | null {
  switch (kind) {
    case 'id':
      return integerText(value)
    case 'decimal':
      return typeof value === 'string' ? decimalText(value) : null
    case 'text':
      return typeof value === 'string' ? text(value) : null
    case 'bool':
      return boolean(value)
    case 'epoch-ms': {
      const digits = integerText(value)
      return digits === null || digits.length > 15 ? null : isoFromEpoch(Number(digits), 6)
    }
    case 'wallet':
      return wallet(value)
    case 'time':
      return typeof value === 'string' ? blockTime(value) : null
  }
}

// `2025-10-27T06:30:38.019609515`: UTC without a zone, nanoseconds cut to the microsecond
// PostgreSQL keeps (it would round them, and a rounded time may cross into the next second).
const BLOCK_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/

function blockTime(value: string): string | null {
  const m = BLOCK_TIME.exec(value)
  if (!m) return null
  return `${m[1]}${m[2] ? '.' + m[2].slice(0, 6) : ''}Z`
}
