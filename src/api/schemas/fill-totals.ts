import { Type, type Static, type TSchema } from 'typebox'
import { component } from './component.ts'

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()])
const Decimal = Type.String({ description: 'Exact decimal, as a string.', examples: ['100.0'] })

/** What a TWAP's fills add up to. */
export const FillTotals = component('FillTotals', Type.Object({
  count: Type.Integer(),
  size: Decimal,
  notional: Type.String({ description: 'Σ px × sz, exact.' }),
  avg_price: nullable(Type.String({ description: 'notional ÷ size, exact (trailing zeros trimmed); null without fills.' })),
  fees: Type.Array(Type.Object({ token: nullable(Type.String()), amount: Decimal }), { description: 'Σ fee per fee token (negative for maker rebates).' }),
  builder_fee: Decimal,
  closed_pnl: Type.String({ description: 'Σ closedPnl: the realized PnL.' }),
}, { description: 'Totals of the TWAP\'s fills.' }))

export type FillTotals = Static<typeof FillTotals>
