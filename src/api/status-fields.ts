import { STATUS_FIELDS, type StatusField } from '#src/decode/event.ts'
import { isoFromPg } from '#src/store/db.ts'

/**
 * The statuses table's fields as the API shows them, in four shapes: a TWAP (its latest
 * event in the range), one of its events, one row of its history, a line of the CSV
 * export. The schemas and the mappers both read these, so a field of the table shows in
 * every shape that its scope belongs to, under its API name, with no code of its own.
 */

/** One field in one shape: the row's column it reads and the path it is written to. */
export interface ShownField {
  field: StatusField
  /** `['executed', 'size']` for a field shown inside the `executed` object. */
  path: readonly string[]
}

function shown(fields: readonly StatusField[], rename: Partial<Record<string, string>> = {}): ShownField[] {
  return fields.map((field) => ({ field, path: (rename[field.api] ?? field.api).split('.') }))
}

const inScope = (...scopes: StatusField['scope'][]) => STATUS_FIELDS.filter((f) => scopes.includes(f.scope))

/** A TWAP: every field but the wallet its page names; its latest event's time is `latest_ts`. */
export const TWAP_FIELDS = shown(inScope('id', 'twap', 'event'), { ts: 'latest_ts' })

/** An event's own fields: its time first, then what it says. */
const EVENT_OWN = [...inScope('event').filter((f) => f.column === 'ts'), ...inScope('event').filter((f) => f.column !== 'ts')]

/** An event: its time, then what it says for itself. */
export const EVENT_FIELDS = shown(EVENT_OWN)

/** A history row: the event (with its raw row), then these, its TWAP's wallet and facts (the id is the history's). */
export const HISTORY_TWAP_FIELDS = shown(inScope('wallet', 'twap'))

/** The CSV column of a field: its API path joined by `_` (`executed_size`). */
const csvName = (f: ShownField) => f.path.join('_')

/**
 * The columns of a TWAP's CSV line, in the table's order, the event's time as `latest_ts`;
 * `avg_price`, which is computed from the executed figures, follows them.
 */
export const TWAP_CSV_FIELDS = shown(STATUS_FIELDS, { ts: 'latest_ts' })
export const TWAP_CSV_COLUMNS = TWAP_CSV_FIELDS.flatMap((f) => (f.field.column === 'notional_executed' ? [csvName(f), 'avg_price'] : [csvName(f)]))

/**
 * The columns of an event's CSV line (`latest_per_twap=false`): its TWAP's columns, repeated
 * on each of its events, then the event's time and what it says, then `avg_price`.
 */
export const EVENT_CSV_FIELDS = [...shown(inScope('id', 'wallet', 'twap')), ...EVENT_FIELDS]
export const EVENT_CSV_STATUS_COLUMNS = [...EVENT_CSV_FIELDS.map(csvName), 'avg_price']

/** A row's value of a field as the API shows it: a time as ISO-8601 UTC without a zero fraction. */
function shownValue(field: StatusField, row: Readonly<Record<string, unknown>>): unknown {
  const value = row[field.column] ?? null
  return field.kind === 'time' ? isoFromPg(value as string | null) : value
}

/** Writes the values of `fields` in `row` onto `target`, each at its path. */
export function showFields(target: Record<string, unknown>, fields: readonly ShownField[], row: object): void {
  const values = row as Readonly<Record<string, unknown>>
  for (const { field, path } of fields) {
    let at = target
    for (let i = 0; i < path.length - 1; i++) at = (at[path[i] as string] ??= {}) as Record<string, unknown>
    at[path[path.length - 1] as string] = shownValue(field, values)
  }
}

/** The values of `fields` in `row` as CSV cells, keyed by column. */
export function csvCells(fields: readonly ShownField[], row: object): Record<string, unknown> {
  const values = row as Readonly<Record<string, unknown>>
  const cells: Record<string, unknown> = {}
  for (const f of fields) cells[csvName(f)] = shownValue(f.field, values)
  return cells
}
