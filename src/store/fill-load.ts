import { FILL_FIELDS, PLAIN_KINDS, type TwapFill } from '#src/decode/fill.ts'
import type { Session } from './db.ts'
import { copyValue, nullable, type LoadCounts } from './load.ts'

/** Columns of `twap_fill` that a load fills, in COPY order: the field table's, then the object and raw fill. */
const COLUMNS = [...FILL_FIELDS.map((f) => f.column), 's3_object_key', 'raw_payload'] as const
const COLUMN_LIST = COLUMNS.map((c) => `"${c}"`).join(', ')

// Fills go through a temporary stage: TWAP fills are a small part of an object, and from the
// stage one statement inserts the new ones and another records that this object holds every
// one of them, new or stored before.
const CREATE_STAGE = `
  CREATE TEMP TABLE IF NOT EXISTS twap_fill_stage ON COMMIT DELETE ROWS
  AS SELECT ${COLUMN_LIST} FROM twap_fill WITH NO DATA`

const MOVE_STAGE = `
  INSERT INTO twap_fill (${COLUMN_LIST})
  SELECT ${COLUMN_LIST} FROM twap_fill_stage
  ON CONFLICT DO NOTHING`

const HOLD_STAGE = `
  INSERT INTO twap_fill_object (s3_object_key, fill_id)
  SELECT DISTINCT $1::text, f.id
    FROM twap_fill_stage s
    JOIN twap_fill f ON f.tid = s.tid AND f.wallet = s.wallet AND f.oid = s.oid
  ON CONFLICT DO NOTHING`

const CLEAR_STAGE = 'TRUNCATE twap_fill_stage'

// The statement sees the memberships as they were before its own DELETE, hence `<> $1`.
const RELEASE_OBJECT = `
  WITH released AS (DELETE FROM twap_fill_object WHERE s3_object_key = $1 RETURNING fill_id)
  DELETE FROM twap_fill f
   USING released r
   WHERE f.id = r.fill_id
     AND NOT EXISTS (SELECT 1 FROM twap_fill_object o WHERE o.fill_id = f.id AND o.s3_object_key <> $1)`

/**
 * A bulk loader of TWAP fills bound to one transaction and one source object, as
 * `createLoader` is for status events: `add` stores a batch and returns its counts, and
 * loading the same fills again inserts nothing. `replacePrevious` (for an object that
 * changed) lets go of the object's fills, deleting only those no other object holds.
 */
export async function createFillLoader(tx: Session, objectKey: string) {
  let staged = false
  return {
    async replacePrevious(): Promise<number> {
      return (await tx.query(RELEASE_OBJECT, [objectKey])).rowCount
    },
    async add(fills: readonly TwapFill[]): Promise<LoadCounts> {
      if (fills.length === 0) return { inserted: 0, duplicate: 0 }
      if (!staged) await tx.exec(CREATE_STAGE)
      staged = true
      await tx.copyIn('twap_fill_stage', COLUMNS, fillCopyText(fills, objectKey))
      const { rowCount: inserted } = await tx.query(MOVE_STAGE)
      await tx.query(HOLD_STAGE, [objectKey])
      await tx.exec(CLEAR_STAGE)
      return { inserted, duplicate: fills.length - inserted }
    },
  }
}

const ENCODERS = FILL_FIELDS.map((f) => (PLAIN_KINDS.has(f.kind)
  ? (fill: TwapFill) => nullable(fill[f.column])
  : (fill: TwapFill) => copyValue(fill[f.column] as string | null)))

/** Fills as COPY text in `COLUMNS` order, one line each. */
export function fillCopyText(fills: readonly TwapFill[], objectKey: string): string {
  const tail = '\t' + copyValue(objectKey) + '\t'
  let out = ''
  for (const fill of fills) {
    let line = ''
    for (let i = 0; i < ENCODERS.length; i++) line += (i ? '\t' : '') + ENCODERS[i]!(fill)
    out += line + tail + copyValue(fill.raw) + '\n'
  }
  return out
}
