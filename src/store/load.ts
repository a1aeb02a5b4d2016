import type { TwapEvent } from '../decode/event.ts'
import type { Session } from './db.ts'

/** Columns of `twap_status` that a load fills, in COPY order. */
const COLUMNS = [
  'twap_id', 'wallet', 'ts', 'asset', 'side', 'size_requested', 'size_executed', 'notional_executed',
  'status', 'duration_minutes', 'placed_at', 'reduce_only', 'randomize', 's3_object_key', 'raw_payload',
] as const

const COLUMN_LIST = COLUMNS.join(', ')

// Rows go straight into `twap_status` by COPY, the fastest way into PostgreSQL, inside a
// savepoint. COPY cannot skip a row that is already stored: when the event key rejects one
// (the batch overlaps events loaded before, or repeats one), the savepoint is rolled back
// and the batch goes the slower way, COPY into a temporary table and INSERT … ON CONFLICT
// DO NOTHING from there. The unique key decides in both cases, so the rows stored and the
// counts are the same; the direct way skips a second copy of every row, which took a
// quarter of the database's CPU on a million-row load (bench/README.md).
const DIRECT = 'SAVEPOINT twap_direct'
const DIRECT_DONE = 'RELEASE SAVEPOINT twap_direct'
const DIRECT_UNDONE = 'ROLLBACK TO SAVEPOINT twap_direct; RELEASE SAVEPOINT twap_direct'

/** SQLSTATE of a unique-key violation. */
const UNIQUE_VIOLATION = '23505'

// The stage takes its columns from `twap_status`, so a migration cannot leave it behind.
const CREATE_STAGE = `
  CREATE TEMP TABLE IF NOT EXISTS twap_stage ON COMMIT DELETE ROWS
  AS SELECT ${COLUMN_LIST} FROM twap_status WITH NO DATA`

const MOVE_STAGE = `
  INSERT INTO twap_status (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM twap_stage
  ON CONFLICT DO NOTHING`

const CLEAR_STAGE = 'TRUNCATE twap_stage'

const DELETE_OBJECT_ROWS = 'DELETE FROM twap_status WHERE s3_object_key = $1'

export interface LoadCounts {
  /** Rows that became new events. */
  inserted: number
  /** Rows whose event was already stored (or appeared twice in the input). */
  duplicate: number
}

/**
 * A bulk loader bound to one transaction and one source object. `add` stores a batch of
 * events and returns its counts; loading the same events again inserts nothing. Call
 * `replacePrevious` first when the object was ingested before and changed since, so its
 * old rows give way to the new ones inside the same transaction.
 */
export async function createLoader(tx: Session, objectKey: string) {
  // Once a batch of this object overlapped stored events the next ones likely do too, so
  // they go through the stage without trying the direct way first.
  let direct = true
  let staged = false

  async function copyDirect(text: string): Promise<boolean> {
    await tx.exec(DIRECT)
    try {
      await tx.copyIn('twap_status', COLUMNS, text)
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err
      await tx.exec(DIRECT_UNDONE)
      return false
    }
    await tx.exec(DIRECT_DONE)
    return true
  }

  async function copyStaged(text: string): Promise<number> {
    if (!staged) await tx.exec(CREATE_STAGE)
    staged = true
    await tx.copyIn('twap_stage', COLUMNS, text)
    const { rowCount } = await tx.query(MOVE_STAGE)
    await tx.exec(CLEAR_STAGE)
    return rowCount
  }

  return {
    async replacePrevious(): Promise<number> {
      return (await tx.query(DELETE_OBJECT_ROWS, [objectKey])).rowCount
    },
    async add(events: readonly TwapEvent[]): Promise<LoadCounts> {
      if (events.length === 0) return { inserted: 0, duplicate: 0 }
      const text = toCopyText(events, objectKey)
      if (direct && await copyDirect(text)) return { inserted: events.length, duplicate: 0 }
      direct = false
      const inserted = await copyStaged(text)
      return { inserted, duplicate: events.length - inserted }
    },
  }
}

/** Encodes events as COPY text: tab-separated, `\N` for NULL, one line per event. */
export function toCopyText(events: readonly TwapEvent[], objectKey: string): string {
  const key = copyValue(objectKey)
  let out = ''
  for (const e of events) {
    out +=
      copyValue(e.twapId) + '\t' + copyValue(e.wallet) + '\t' + e.ts + '\t' +
      copyValue(e.asset) + '\t' + copyValue(e.side) + '\t' +
      nullable(e.sizeRequested) + '\t' + nullable(e.sizeExecuted) + '\t' + nullable(e.notionalExecuted) + '\t' +
      copyValue(e.status) + '\t' + nullable(e.durationMinutes) + '\t' + nullable(e.placedAt) + '\t' +
      nullable(e.reduceOnly) + '\t' + nullable(e.randomize) + '\t' + key + '\t' + copyValue(e.raw) + '\n'
  }
  return out
}

/** Values that cannot hold a tab, newline or backslash (numbers, booleans, ISO times). */
export function nullable(value: string | number | boolean | null): string {
  return value === null ? '\\N' : String(value)
}

const SPECIAL = /[\\\t\n\r]/

/** Text values, escaped as COPY's text format requires. */
export function copyValue(value: string | null): string {
  if (value === null) return '\\N'
  if (!SPECIAL.test(value)) return value
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'))
}
