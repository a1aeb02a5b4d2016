import { Type, type Static, type TSchema } from 'typebox'
import type { StatusFieldSpec, StatusKind } from '#src/decode/event.ts'
import { EVENT_FIELDS, HISTORY_TWAP_FIELDS, TWAP_FIELDS, type ShownField } from '#src/api/status-fields.ts'
import { RangeParameters } from '#src/api/range.ts'
import { component } from './component.ts'
import { RangeCoverage } from './coverage.ts'
import { FillTotals } from './fill-totals.ts'

/**
 * The TWAP resource: the query of `GET /api/v1/twaps`, a page of TWAPs, one TWAP's history.
 * These schemas validate requests, serialise responses and make the OpenAPI document.
 * `x-message` is what a 422 says about a parameter that fails its schema; `component`
 * names a schema the OpenAPI document lists once and refers to.
 */

export { INSTANT_FORMAT } from './formats.ts'

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const Decimal = Type.String({ description: 'Exact decimal, as a string.', examples: ['100.0'] })
const Instant = Type.String({ format: 'date-time', description: 'ISO-8601 UTC time; a fraction only when not zero.', examples: ['2025-11-03T12:30:00Z'] })

const stringEnum = <const T extends string[]>(values: T, options: Record<string, unknown>) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: values, ...options })

/** TWAPs a page holds unless `limit` says otherwise, and at most. */
export const DEFAULT_LIMIT = 500
export const MAX_LIMIT = 5000

export const EXPORT_FORMATS = ['json', 'csv', 'ndjson'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

/** The tax platforms' CSV layouts, which the TWAP and fill exports both write. */
export const TAX_FORMAT_NAMES = ['awaken', 'awaken-spot', 'koinly', 'cointracker'] as const
export type TaxFormatName = (typeof TAX_FORMAT_NAMES)[number]
const TWAP_FORMATS = [...EXPORT_FORMATS, ...TAX_FORMAT_NAMES]

export const TwapsQuery = Type.Object({
  wallet: Type.String({
    pattern: '^0[xX][0-9a-fA-F]{40}$',
    description: 'Wallet address, matched case-insensitively.',
    // The bundled sample's first wallet, so that the docs' pre-filled example answers with
    // data after `npm start` (a test holds it to that).
    examples: ['0x9d6a1f0c3b2e4d5a6978b1c2d3e4f5a6b7c8d9b8'],
    'x-message': 'must be 0x followed by 40 hex digits',
  }),
  ...RangeParameters,
  asset: Type.Optional(Type.String({
    minLength: 1,
    maxLength: 64,
    pattern: '^[^\\u0000-\\u001f\\u007f]+$',
    description: 'Only TWAPs of this asset (`SOL`, `BTC`, …), matched exactly.',
    'x-message': 'must be an asset name of 1 to 64 printable characters',
  })),
  latest_per_twap: Type.Optional(stringEnum(['true', 'false', '1', '0'], {
    default: 'true',
    description: 'true: each TWAP is its latest event in the range. false: each TWAP also carries `events`, every event in the range, oldest first.',
    'x-message': 'must be true, false, 1 or 0',
  })),
  limit: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: MAX_LIMIT,
    default: DEFAULT_LIMIT,
    description: 'TWAPs per page (JSON only; exports are never paged).',
    'x-message': `must be an integer from 1 to ${MAX_LIMIT}`,
  })),
  cursor: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]{1,300}$',
    description: '`next_cursor` of the previous page of the same query.',
    'x-message': 'must be the next_cursor of a previous page of this same query',
  })),
  format: Type.Optional(stringEnum(TWAP_FORMATS, {
    description: 'json (default, paged), or csv / ndjson: the whole range streamed, one line per TWAP (CSV with latest_per_twap=false: one line per event, the TWAP\'s columns repeated). `Accept: text/csv` or `application/x-ndjson` selects the same. Or a tax platform\'s CSV (awaken, awaken-spot, koinly, cointracker) for a range without loaded fills: one trade per TWAP at its average price.',
    'x-message': `must be one of ${TWAP_FORMATS.join(', ')}`,
  })),
  csv_safe: Type.Optional(stringEnum(['true', 'false', '1', '0'], {
    default: 'false',
    description: 'CSV and the tax formats only. true: spreadsheet-safe, a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `\'` so that a spreadsheet shows it as text instead of running it as a formula; negative numbers such as `-1.5` too. For a file opened in a spreadsheet; leave it off for programs, which get the values as they are.',
    'x-message': 'must be true, false, 1 or 0',
  })),
}, { additionalProperties: false })
export type TwapsQuery = Static<typeof TwapsQuery>

const AvgPrice = nullable(Type.String({
  description: 'Executed notional ÷ executed size, exact (trailing zeros trimmed); null when nothing executed.',
  examples: ['90.5'],
}))

const Raw = Type.Unknown({ description: 'The source row, as ingested.' })

/** The statuses the source reports, by what they mean; `error: …` carries the reason. */
export const KNOWN_STATUSES = ['waitingForTrigger', 'activated', 'finished', 'terminated', 'stopped'] as const

const Status = nullable(component('TwapStatus', Type.Union([
  Type.Unsafe<(typeof KNOWN_STATUSES)[number]>({ type: 'string', enum: [...KNOWN_STATUSES] }),
  Type.String({ pattern: '^error', description: '`error: ` and the reason the TWAP stopped, e.g. `error: Insufficient margin to place order.`' }),
  Type.String({ description: 'A status the source added later, passed on as it is.' }),
], {
  description: 'waitingForTrigger: placed, waiting to start (not terminal). activated: running. finished: ran its whole duration. terminated: cancelled by the user. stopped: stopped by the exchange. error: …: stopped by an error, with its reason. The last four are terminal.',
  examples: ['finished'],
})))

const Side = nullable(component('Side', Type.Union([
  Type.Unsafe<'B' | 'A'>({ type: 'string', enum: ['B', 'A'] }),
  Type.String({ description: 'Another value, passed on as the source wrote it.' }),
], { description: 'B: buy (bid). A: sell (ask).', examples: ['B'] })))

/** The schema of each kind of field; the id, the status and the side have their own. */
function fieldSchema(field: StatusFieldSpec): TSchema {
  const options = {
    ...(field.doc === undefined ? {} : { description: field.doc }),
    ...(field.example === undefined ? {} : { examples: [field.example] }),
  }
  const schema = field.column === 'side' ? Side : field.kind === 'status' ? Status : kindSchema(field.kind, options)
  return 'required' in field || schema === Side || schema === Status ? schema : nullable(schema)
}

function kindSchema(kind: StatusKind, options: Record<string, unknown>): TSchema {
  switch (kind) {
    case 'id':
    case 'wallet':
    case 'text':
    case 'status':
      return Type.String(options)
    case 'decimal':
      return Object.keys(options).length === 0 ? Decimal : Type.String({ ...Decimal, ...options })
    case 'int32':
      return Type.Integer(options)
    case 'bool':
      return Type.Boolean(options)
    case 'time':
      return Object.keys(options).length === 0 ? Instant : Type.String({ format: 'date-time', ...options })
  }
}

/** Objects that group fields (`executed.size`), as the OpenAPI document names them. */
const GROUPS: Record<string, (properties: Record<string, TSchema>) => TSchema> = {
  executed: (properties) => component('Executed', Type.Object(properties, {
    description: 'Executed so far, cumulative: size in the asset, notional in USD. Each event carries the totals up to it, not the increment since the previous one.',
  })),
}

/**
 * The schema properties of `fields` under their API names: a group's fields in one object
 * (`executed`), followed by `avg_price`, which is computed from them.
 */
function fieldProperties(fields: readonly ShownField[]): Record<string, TSchema> {
  const members = new Map<string, Record<string, TSchema>>()
  for (const { field, path } of fields) {
    if (path.length === 2) members.set(path[0] as string, { ...members.get(path[0] as string), [path[1] as string]: fieldSchema(field) })
  }
  const properties: Record<string, TSchema> = {}
  for (const { field, path } of fields) {
    const name = path[0] as string
    if (path.length === 1) properties[name] = fieldSchema(field)
    else if (!(name in properties)) {
      properties[name] = (GROUPS[name] ?? ((p: Record<string, TSchema>) => Type.Object(p)))(members.get(name) ?? {})
      if (name === 'executed') properties.avg_price = AvgPrice
    }
  }
  return properties
}

/**
 * One event of a TWAP: in a TWAP's `events` (`latest_per_twap=false`) and in its history,
 * the same fields in the same order, oldest first in both.
 */
export const TwapEvent = component('TwapEvent', Type.Object({
  ...fieldProperties(EVENT_FIELDS),
  raw: Raw,
}, { description: 'One status event of a TWAP.' }))

/** A TWAP summarised by its latest event in the range. */
export const Twap = component('Twap', Type.Object({
  ...fieldProperties(TWAP_FIELDS),
  raw: Raw,
  events: Type.Optional(Type.Array(TwapEvent, { description: 'Only with latest_per_twap=false: every event in the range, oldest first.' })),
  fills: Type.Optional(FillTotals),
  reconciled: Type.Union([Type.Boolean(), Type.Null()], {
    description: 'Whether its fills add up to its executed size and notional (rounded to the decimals its status shows): true or false once its latest status is terminal and fills cover every hour of its life, null until then.',
  }),
}, { description: 'A TWAP, summarised by its latest event in the range.' }))
export type Twap = Static<typeof Twap>

export const TwapsPage = component('TwapsPage', Type.Object({
  wallet: Type.String({ description: 'The wallet, lower-case.' }),
  start: Type.String({ format: 'date-time', description: 'First instant served, inclusive.' }),
  end: Type.String({ format: 'date-time', description: 'Last instant served, inclusive (the last microsecond of the day when `end` was a bare date).' }),
  twaps: Type.Array(Twap, { description: 'Newest first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
  coverage: RangeCoverage,
}, { description: 'A page of a wallet\'s TWAPs.' }))
export type TwapsPage = Static<typeof TwapsPage>

export const TwapParams = Type.Object({
  twap_id: Type.String({
    pattern: '^[0-9]{1,20}$',
    description: 'The TWAP id, decimal digits.',
    examples: ['1219780'],
    'x-message': 'must be 1 to 20 decimal digits',
  }),
})

/** One stored event of a TWAP, as its history lists it: the event, then its TWAP's fields. */
export const TwapHistoryRow = component('TwapHistoryRow', Type.Object({
  ...TwapEvent.properties,
  ...fieldProperties(HISTORY_TWAP_FIELDS),
  s3_object_key: Type.String({ description: 'The source object the event came from.' }),
}, { description: 'One stored event of a TWAP with its TWAP\'s fields.' }))
export type TwapHistoryRow = Static<typeof TwapHistoryRow>

export const TwapHistory = component('TwapHistory', Type.Object({
  twap_id: Type.String(),
  rows: Type.Array(TwapHistoryRow, { description: 'Every stored event, oldest first (on equal times the terminal status last).' }),
}, { description: 'Every stored event of one TWAP.' }))
export type TwapHistory = Static<typeof TwapHistory>
