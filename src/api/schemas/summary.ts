import { Type, type Static, type TSchema } from 'typebox'
import { RangeParameters } from '#src/api/range.ts'
import { component } from './component.ts'
import { RangeCoverage } from './coverage.ts'
import { TwapsQuery } from './twaps.ts'

/** The wallet summary: its path and query, and the totals it answers with. */

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Decimal = Type.String({ description: 'Exact decimal, as a string.', examples: ['9050.5'] })

export const SummaryParams = Type.Object({ wallet: TwapsQuery.properties.wallet })

export const SUMMARY_FORMATS = ['json', 'csv'] as const

export const SummaryQuery = Type.Object({
  ...RangeParameters,
  asset: Type.Optional(Type.Unsafe<string>({ ...TwapsQuery.properties.asset, description: 'Only this asset: a TWAP\'s asset, a fill\'s coin (`HYPE`, `@107`, `xyz:NVDA`), matched exactly.' })),
  format: Type.Optional(Type.Unsafe<(typeof SUMMARY_FORMATS)[number]>({
    type: 'string',
    enum: [...SUMMARY_FORMATS],
    description: 'json (default), or csv: one line per asset and side, then one line of totals.',
    'x-message': 'must be json or csv',
  })),
  csv_safe: TwapsQuery.properties.csv_safe,
}, { additionalProperties: false })
export type SummaryQuery = Static<typeof SummaryQuery>

const StatusCount = component('StatusCount', Type.Object({
  status: nullable(Type.String({ examples: ['finished'] })),
  count: Type.Integer(),
}, { description: 'How many TWAPs have this status as their latest in the range.' }))

const TokenAmount = component('TokenAmount', Type.Object({
  token: nullable(Type.String({ examples: ['USDC'] })),
  amount: Decimal,
}, { description: 'An exact sum in one token.' }))

const TwapTotals = component('SummaryTwaps', Type.Object({
  count: Type.Integer({ description: 'TWAPs with an event in the range.' }),
  by_status: Type.Array(StatusCount, { description: 'By latest status in the range.' }),
  notional: Decimal,
}, { description: 'The TWAPs, each as its latest status event in the range: executed notional (USD) is the sum of theirs.' }))

const FillSums = component('SummaryFills', Type.Object({
  count: Type.Integer({ description: 'Fills in the range.' }),
  fees: Type.Array(TokenAmount, { description: 'Σ fee per fee token (negative for maker rebates).' }),
  builder_fee: Decimal,
  closed_pnl: Type.String({ description: 'Σ closedPnl: the realized PnL, in the quote token.' }),
}, { description: 'Sums of the fills in the range.' }))

const AssetSummary = component('AssetSummary', Type.Object({
  asset: nullable(Type.String({ examples: ['HYPE'] })),
  side: nullable(Type.String({ description: 'B (buy) or A (sell).' })),
  twaps: Type.Object({
    count: Type.Integer(),
    by_status: Type.Array(StatusCount),
    size: Decimal,
    notional: Decimal,
    avg_price: nullable(Type.String({ description: 'notional ÷ size, exact (trailing zeros trimmed); null when nothing executed.' })),
  }, { description: 'From the statuses: each TWAP\'s latest event in the range.' }),
  fills: FillSums,
}, { description: 'One asset and side.' }))

export const WalletSummary = component('WalletSummary', Type.Object({
  wallet: Type.String({ description: 'The wallet, lower-case.' }),
  start: Type.String(),
  end: Type.String(),
  asset: nullable(Type.String()),
  assets: Type.Array(AssetSummary, { description: 'By asset, then side.' }),
  totals: Type.Object({ twaps: TwapTotals, fills: FillSums }, { description: 'Across assets: notional in USD, fees per fee token.' }),
  coverage: RangeCoverage,
}, { description: 'A wallet\'s TWAPs and fills over a time range, summed per asset and side and in total.' }))
export type WalletSummary = Static<typeof WalletSummary>
