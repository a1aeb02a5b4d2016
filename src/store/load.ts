import { ESCAPED_KINDS, STATUS_FIELDS, type TwapEvent } from '#src/decode/event.ts'
import type { Session } from './db.ts'

/** Columns of `twap_status` that a load fills, in COPY order: the statuses table's, then the object and the raw row. */
export const COPY_COLUMNS = [...STATUS_FIELDS.map((f) => f.column), 's3_object_key', 'raw_payload'] as const

const COLUMN_LIST = COPY_COLUMNS.join(', ')

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

// Membership: which objects hold each event (`twap_status_object`). An event is stored once
// however many objects carry it, so deleting "the rows of an object" would take events that
// an object never read again still holds. Instead every load records, in bulk, that this
// object holds each of its events, whether new or already stored, and a rewritten object
// first gives up its memberships and then deletes only the events no object holds any more.
// The same pattern serves any other event table (fills): a membership table keyed by
// (object, event id) with ON DELETE CASCADE and an index on the event id; after a direct
// COPY the new ids are those above the highest id seen before it and carrying the object's
// key, after the staged way the stage is joined back to the table on the event key.
const MAX_ID = 'SELECT COALESCE(max(id), 0)::text AS id FROM twap_status'

// Rows inserted by this transaction's COPY are those of this object above the highest id
// visible before it: earlier versions of the object committed before that read, and other
// objects' concurrent rows carry another key. The id range keeps the scan to the new rows.
const HOLD_COPIED = `
  INSERT INTO twap_status_object (s3_object_key, status_id)
  SELECT s3_object_key, id FROM twap_status WHERE id > $2 AND s3_object_key = $1`

// Each staged row's event, inserted just now or stored before, by the event key's index.
const HOLD_STAGED = `
  INSERT INTO twap_status_object (s3_object_key, status_id)
  SELECT $1::text, s.id
    FROM twap_stage st
    JOIN twap_status s
      ON s.twap_id = st.twap_id AND s.ts = st.ts
     AND COALESCE(s.status, '') = COALESCE(st.status, '')
     AND COALESCE(s.size_executed, -1) = COALESCE(st.size_executed, -1)
  ON CONFLICT DO NOTHING`

// Giving up an object's events races with other transactions of the same run: two
// rewritten objects sharing an event would each see the other's membership and keep it, and
// an object recording its membership of an event (its foreign key share-locks the event)
// while the event is deleted would lose it to the cascade. So rewrites take turns (a
// transaction-level advisory lock), and the object's events are locked in id order before a
// new statement, with a new snapshot, looks for other holders: a holder still committing is
// waited for and then seen, and one arriving later finds the event gone and fails its object,
// which the next run retries.
const REWRITES_TAKE_TURNS = 'SELECT pg_advisory_xact_lock(74610, 22103)'
const LOCK_OBJECT_EVENTS = `
  WITH locked AS (
    SELECT id FROM twap_status
     WHERE id IN (SELECT status_id FROM twap_status_object WHERE s3_object_key = $1)
     ORDER BY id FOR UPDATE)
  SELECT count(*)::int AS n FROM locked`

// One statement: the CTE's DELETE is not visible to the NOT EXISTS, hence its `<> $1`.
const RELEASE_OBJECT = `
  WITH released AS (DELETE FROM twap_status_object WHERE s3_object_key = $1 RETURNING status_id)
  DELETE FROM twap_status s
   USING released r
   WHERE s.id = r.status_id
     AND NOT EXISTS (SELECT 1 FROM twap_status_object o WHERE o.status_id = s.id AND o.s3_object_key <> $1)`

export interface LoadCounts {
  /** Rows that became new events. */
  inserted: number
  /** Rows whose event was already stored (or appeared twice in the input). */
  duplicate: number
}

/**
 * A bulk loader bound to one transaction and one source object. `add` stores a batch of
 * events, records that the object holds each of them, and returns its counts; loading the
 * same events again inserts nothing. Call `replacePrevious` first when the object was
 * ingested before and changed since: it gives up the object's old events inside the same
 * transaction, deleting those no other object holds, and returns how many it deleted.
 */
export async function createLoader(tx: Session, objectKey: string) {
  // Once a batch of this object overlapped stored events the next ones likely do too, so
  // they go through the stage without trying the direct way first.
  let direct = true
  let staged = false

  async function copyDirect(text: string): Promise<boolean> {
    const { rows: [before] } = await tx.query<{ id: string }>(MAX_ID)
    await tx.exec(DIRECT)
    try {
      await tx.copyIn('twap_status', COPY_COLUMNS, text)
    } catch (err) {
      if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err
      await tx.exec(DIRECT_UNDONE)
      return false
    }
    await tx.exec(DIRECT_DONE)
    await tx.query(HOLD_COPIED, [objectKey, before!.id])
    return true
  }

  async function copyStaged(text: string): Promise<number> {
    if (!staged) await tx.exec(CREATE_STAGE)
    staged = true
    await tx.copyIn('twap_stage', COPY_COLUMNS, text)
    const { rowCount } = await tx.query(MOVE_STAGE)
    await tx.query(HOLD_STAGED, [objectKey])
    await tx.exec(CLEAR_STAGE)
    return rowCount
  }

  return {
    async replacePrevious(): Promise<number> {
      await tx.query(REWRITES_TAKE_TURNS)
      await tx.query(LOCK_OBJECT_EVENTS, [objectKey])
      return (await tx.query(RELEASE_OBJECT, [objectKey])).rowCount
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

const COPY_KEYS = STATUS_FIELDS.map((f) => f.key)
const COPY_ESCAPED = STATUS_FIELDS.map((f) => ESCAPED_KINDS.has(f.kind))

/** Encodes events as COPY text: tab-separated, `\N` for NULL, one line per event, in `COPY_COLUMNS` order. */
export function toCopyText(events: readonly TwapEvent[], objectKey: string): string {
  const tail = '\t' + copyValue(objectKey) + '\t'
  const count = COPY_KEYS.length
  let out = ''
  for (const e of events) {
    const values = e as unknown as Record<string, string | number | boolean | null>
    for (let k = 0; k < count; k++) {
      const value = values[COPY_KEYS[k] as string] ?? null
      if (k > 0) out += '\t'
      out += COPY_ESCAPED[k] ? copyValue(value as string | null) : nullable(value)
    }
    out += tail + copyValue(e.raw) + '\n'
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
