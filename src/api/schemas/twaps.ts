import { Type, type Static, type TSchema } from 'typebox'
import { FillTotals } from './fill-totals.ts'

/**
 * The TWAP resource: the query of `GET /api/v1/twaps`, a page of TWAPs, one TWAP's history.
 * These schemas validate requests, serialise responses and make the OpenAPI document.
 * `x-message` is what a 422 says about a parameter that fails its schema.
 */

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const Decimal = Type.String({ description: 'Exact decimal, as a string.', examples: ['100.0'] })
const Instant = Type.String({ description: 'ISO-8601 UTC time; a fraction only when not zero.', examples: ['2025-11-03T12:30:00Z'] })

/** The `instant` string format: registered with the validator in `plugins/validation.ts`. */
export const INSTANT_FORMAT = 'instant'

const InstantParameter = (description: string) => Type.String({
  format: INSTANT_FORMAT,
  maxLength: 64,
  description: `${description} ISO-8601 with or without a zone (none means UTC), or a date alone meaning 00:00 UTC.`,
  examples: ['2025-01-01', '2025-11-03T12:30:00Z'],
  'x-message': 'must be an ISO-8601 date (2025-11-01) or date-time (2025-11-01T12:30:00Z)',
})

const stringEnum = <const T extends string[]>(values: T, options: Record<string, unknown>) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: values, ...options })

/** TWAPs a page holds unless `limit` says otherwise, and at most. */
export const DEFAULT_LIMIT = 500
export const MAX_LIMIT = 5000

export const EXPORT_FORMATS = ['json', 'csv', 'ndjson'] as const
export type ExportFormat = (typeof EXPORT_FORMATS)[number]

export const TwapsQuery = Type.Object({
  wallet: Type.String({
    pattern: '^0[xX][0-9a-fA-F]{40}$',
    description: 'Wallet address, matched case-insensitively.',
    examples: ['0x' + 'ab'.repeat(20)],
    'x-message': 'must be 0x followed by 40 hex digits',
  }),
  start: InstantParameter('First instant of the range, inclusive.'),
  end: InstantParameter('Last instant of the range, inclusive.'),
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
  format: Type.Optional(stringEnum([...EXPORT_FORMATS], {
    description: 'json (default, paged), or csv / ndjson: the whole range streamed, one line per TWAP. `Accept: text/csv` or `application/x-ndjson` selects the same.',
    'x-message': 'must be json, csv or ndjson',
  })),
})
export type TwapsQuery = Static<typeof TwapsQuery>

const Executed = Type.Object({ size: nullable(Decimal), notional: nullable(Decimal) }, {
  description: 'Executed so far: size in the asset, notional in USD.',
})

const AvgPrice = nullable(Type.String({
  description: 'Executed notional ÷ executed size, exact (trailing zeros trimmed); null when nothing executed.',
  examples: ['90.5'],
}))

const Raw = Type.Unknown({ description: 'The source row, as ingested.' })

/** One event of a TWAP within the range (`latest_per_twap=false`). */
export const TwapEvent = Type.Object({
  ts: Instant,
  status: nullable(Type.String()),
  executed: Executed,
  avg_price: AvgPrice,
  raw: Raw,
})

/** A TWAP summarised by its latest event in the range. */
export const Twap = Type.Object({
  twap_id: Type.String({ examples: ['123456'] }),
  asset: nullable(Type.String({ examples: ['SOL'] })),
  side: nullable(Type.String({ description: 'B (buy) or A (sell).', examples: ['B'] })),
  status: nullable(Type.String({ description: 'activated, finished, terminated, error: …', examples: ['finished'] })),
  duration_minutes: nullable(Type.Integer({ examples: [30] })),
  latest_ts: Instant,
  executed: Executed,
  requested_size: nullable(Decimal),
  avg_price: AvgPrice,
  created_at: nullable(Type.String({ description: 'When the TWAP was placed, ISO-8601 UTC.' })),
  reduce_only: nullable(Type.Boolean()),
  randomize: nullable(Type.Boolean()),
  raw: Raw,
  events: Type.Optional(Type.Array(TwapEvent, { description: 'Only with latest_per_twap=false.' })),
  fills: Type.Optional(FillTotals),
})
export type Twap = Static<typeof Twap>

export const TwapsPage = Type.Object({
  wallet: Type.String({ description: 'The wallet, lower-case.' }),
  start: Instant,
  end: Instant,
  twaps: Type.Array(Twap, { description: 'Newest first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
})
export type TwapsPage = Static<typeof TwapsPage>

export const TwapParams = Type.Object({
  twap_id: Type.String({
    pattern: '^[0-9]{1,20}$',
    description: 'The TWAP id, decimal digits.',
    'x-message': 'must be 1 to 20 decimal digits',
  }),
})

/** One stored event of a TWAP, as its history lists it. */
export const TwapHistoryRow = Type.Object({
  wallet: Type.String(),
  ts: Instant,
  status: nullable(Type.String()),
  asset: nullable(Type.String()),
  side: nullable(Type.String()),
  duration_minutes: nullable(Type.Integer()),
  requested_size: nullable(Decimal),
  executed: Executed,
  avg_price: AvgPrice,
  created_at: nullable(Type.String()),
  reduce_only: nullable(Type.Boolean()),
  randomize: nullable(Type.Boolean()),
  s3_object_key: Type.String({ description: 'The source object the event came from.' }),
  raw: Raw,
})
export type TwapHistoryRow = Static<typeof TwapHistoryRow>

export const TwapHistory = Type.Object({
  twap_id: Type.String(),
  rows: Type.Array(TwapHistoryRow, { description: 'Every stored event, newest first.' }),
})
export type TwapHistory = Static<typeof TwapHistory>
