import { Type, type Static, type TSchema } from 'typebox'
import { component } from './component.ts'
import { RangeCoverage } from './coverage.ts'
import { FillTotals } from './fill-totals.ts'
import { TAX_FORMAT_NAMES, TwapParams, TwapsQuery } from './twaps.ts'

/**
 * The fill resource: the query of `GET /api/v1/fills`, a page of fills, a TWAP's fills
 * with their totals. Parameters shared with the TWAP endpoints are the same schemas, so
 * they validate, and fail with the same 422 messages, alike.
 */

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])

const Decimal = Type.String({ description: 'Exact decimal, as a string.', examples: ['48.334'] })
const Id = Type.String({ description: 'Integer id as its decimal digits (it may exceed 2^53).', examples: ['990908538720549'] })
const Instant = Type.String({ description: 'ISO-8601 UTC time; a fraction only when not zero.', examples: ['2025-10-27T06:30:38.019Z'] })

/** Every `format` of the fills endpoint: the generic ones, then the tax platforms'. */
export const FILL_FORMATS = ['json', 'csv', 'ndjson', ...TAX_FORMAT_NAMES] as const

/** Fills a page holds unless `limit` says otherwise, and at most. */
export const DEFAULT_FILLS_LIMIT = 1000
export const MAX_FILLS_LIMIT = 10_000

export const FillsQuery = Type.Object({
  wallet: TwapsQuery.properties.wallet,
  start: TwapsQuery.properties.start,
  end: TwapsQuery.properties.end,
  asset: Type.Optional(Type.Unsafe<string>({ ...TwapsQuery.properties.asset, description: 'Only fills of this coin (`HYPE`, `@107`, `xyz:NVDA`), matched exactly.' })),
  twap_id: Type.Optional(TwapParams.properties.twap_id),
  limit: Type.Optional(Type.Integer({
    minimum: 1,
    maximum: MAX_FILLS_LIMIT,
    default: DEFAULT_FILLS_LIMIT,
    description: 'Fills per page (JSON only; exports are never paged).',
    'x-message': `must be an integer from 1 to ${MAX_FILLS_LIMIT}`,
  })),
  cursor: TwapsQuery.properties.cursor,
  format: Type.Optional(Type.Unsafe<(typeof FILL_FORMATS)[number]>({
    type: 'string',
    enum: [...FILL_FORMATS],
    description: 'json (default, paged), or csv / ndjson: the whole range streamed, one line per fill (`Accept: text/csv` or `application/x-ndjson` selects the same); or a tax platform\'s CSV, streamed: awaken (perp fills, Awaken\'s perpetuals layout), awaken-spot (spot fills, Awaken\'s trade layout), koinly (Koinly universal), cointracker.',
    'x-message': `must be one of ${FILL_FORMATS.join(', ')}`,
  })),
  csv_safe: TwapsQuery.properties.csv_safe,
}, { additionalProperties: false })
export type FillsQuery = Static<typeof FillsQuery>

/** One TWAP slice fill: the node's fill, its TWAP, wallet and block. */
export const Fill = component('Fill', Type.Object({
  twap_id: Id,
  wallet: Type.String(),
  time: Instant,
  coin: nullable(Type.String({ examples: ['HYPE'] })),
  side: nullable(Type.String({ description: 'B (buy) or A (sell).' })),
  px: Decimal,
  sz: Decimal,
  fee: nullable(Decimal),
  fee_token: nullable(Type.String({ examples: ['USDC'] })),
  builder_fee: nullable(Decimal),
  closed_pnl: nullable(Decimal),
  start_position: nullable(Decimal),
  dir: nullable(Type.String({ examples: ['Open Long'] })),
  crossed: nullable(Type.Boolean()),
  oid: Id,
  tid: Id,
  hash: nullable(Type.String()),
  block_number: nullable(Id),
  block_time: nullable(Instant),
  s3_object_key: Type.String({ description: 'The source object the fill was first loaded from.' }),
  raw: Type.Unknown({ description: 'The fill as the node wrote it, every field kept; integers past 2^53 as strings.' }),
}, { description: 'One TWAP slice fill.' }))
export type Fill = Static<typeof Fill>

export const TwapFills = component('TwapFills', Type.Object({
  twap_id: Type.String(),
  fills: Type.Array(Fill, { description: 'Every stored fill of the TWAP, oldest first.' }),
  totals: FillTotals,
}, { description: 'Every fill of one TWAP, with their totals.' }))
export type TwapFills = Static<typeof TwapFills>

export const FillsPage = component('FillsPage', Type.Object({
  wallet: Type.String({ description: 'The wallet, lower-case.' }),
  start: Instant,
  end: Instant,
  fills: Type.Array(Fill, { description: 'Newest first.' }),
  next_cursor: nullable(Type.String({ description: 'Pass as `cursor` for the next page; null on the last page.' })),
  coverage: RangeCoverage,
}, { description: 'A page of a wallet\'s fills.' }))
export type FillsPage = Static<typeof FillsPage>
