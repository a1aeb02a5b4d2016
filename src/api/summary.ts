import { stringify } from 'csv-stringify/sync'
import { formulaGuard } from './csv-safe.ts'
import type { FillGroupRow, SummaryRange, TwapGroupRow } from '#src/store/summary-queries.ts'
import type { WalletSummary } from './schemas/summary.ts'

type AssetSummary = WalletSummary['assets'][number]
type FillSums = AssetSummary['fills']

const key = (asset: string | null, side: string | null) => JSON.stringify([asset, side])
const noFills = (): FillSums => ({ count: 0, fees: [], builder_fee: '0', closed_pnl: '0' })

/**
 * The summary from the two grouped queries: each GROUPING level becomes one part of the
 * answer, so no sum is made outside the database.
 */
export function toSummary(range: SummaryRange, twaps: TwapGroupRow[], fills: FillGroupRow[], coverage: WalletSummary['coverage']): WalletSummary {
  const assets = new Map<string, AssetSummary>()
  const entry = (asset: string | null, side: string | null): AssetSummary => {
    const k = key(asset, side)
    let found = assets.get(k)
    if (!found) {
      found = { asset, side, twaps: { count: 0, by_status: [], size: '0', notional: '0', avg_price: null }, fills: noFills() }
      assets.set(k, found)
    }
    return found
  }
  const totals: WalletSummary['totals'] = { twaps: { count: 0, by_status: [], notional: '0' }, fills: noFills() }
  for (const row of twaps) {
    if (row.level === 0) entry(row.asset, row.side).twaps.by_status.push({ status: row.status, count: row.count })
    else if (row.level === 1) Object.assign(entry(row.asset, row.side).twaps, { count: row.count, size: row.size, notional: row.notional, avg_price: row.avg_price })
    else if (row.level === 6) totals.twaps.by_status.push({ status: row.status, count: row.count })
    else if (row.level === 7) Object.assign(totals.twaps, { count: row.count, notional: row.notional })
  }
  for (const row of fills) {
    const fee = { token: row.fee_token, amount: row.fee }
    if (row.level === 0 && row.fee_count > 0) entry(row.coin, row.side).fills.fees.push(fee)
    else if (row.level === 1) Object.assign(entry(row.coin, row.side).fills, { count: row.count, builder_fee: row.builder_fee, closed_pnl: row.closed_pnl })
    else if (row.level === 6 && row.fee_count > 0) totals.fills.fees.push(fee)
    else if (row.level === 7) Object.assign(totals.fills, { count: row.count, builder_fee: row.builder_fee, closed_pnl: row.closed_pnl })
  }
  const ordered = [...assets.values()].sort((a, b) => (a.asset ?? '').localeCompare(b.asset ?? '') || (a.side ?? '').localeCompare(b.side ?? ''))
  return { wallet: range.wallet, start: range.start, end: range.end, asset: range.asset, assets: ordered, totals, coverage }
}

/** The summary CSV's columns: `row` is `asset` for an asset and side, `total` for the last line. */
export const SUMMARY_CSV_COLUMNS = [
  'row', 'asset', 'side', 'twaps', 'twaps_by_status', 'executed_size', 'executed_notional', 'avg_price',
  'fills', 'fees', 'builder_fee', 'closed_pnl',
] as const

const statusCell = (counts: { status: string | null; count: number }[]) => counts.map((c) => `${c.status ?? ''}:${c.count}`).join(';')
const feeCell = (fees: { token: string | null; amount: string }[]) => fees.map((f) => `${f.token ?? ''}:${f.amount}`).join(';')

/** The summary as CSV: a header, one line per asset and side, one line of totals (no size: sizes of different assets do not add up). */
export function summaryCsv(summary: WalletSummary, csvSafe = false): string {
  const records = summary.assets.map((a) => ({
    row: 'asset', asset: a.asset, side: a.side, twaps: a.twaps.count, twaps_by_status: statusCell(a.twaps.by_status),
    executed_size: a.twaps.size, executed_notional: a.twaps.notional, avg_price: a.twaps.avg_price,
    fills: a.fills.count, fees: feeCell(a.fills.fees), builder_fee: a.fills.builder_fee, closed_pnl: a.fills.closed_pnl,
  }))
  const t = summary.totals
  records.push({
    row: 'total', asset: null, side: null, twaps: t.twaps.count, twaps_by_status: statusCell(t.twaps.by_status),
    executed_size: '', executed_notional: t.twaps.notional, avg_price: null,
    fills: t.fills.count, fees: feeCell(t.fills.fees), builder_fee: t.fills.builder_fee, closed_pnl: t.fills.closed_pnl,
  })
  return stringify(records, { header: true, columns: [...SUMMARY_CSV_COLUMNS], cast: formulaGuard(csvSafe) })
}
