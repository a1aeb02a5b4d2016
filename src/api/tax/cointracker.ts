import { abs, isNegative, isSpot, isZero, spotSwap, usDate, type TaxFormat, type TaxRow } from './common.ts'

/**
 * CoinTracker's CSV layout, spot and perp fills in one file. A spot fill is a trade; a perp
 * fill is its realized PnL in the payment token, received when a profit, sent when a loss
 * (an opening moves nothing and is its fee alone). The layout has no id or notes column,
 * so CoinTracker cannot deduplicate a re-import of it: import each range once.
 */
export const cointracker: TaxFormat = {
  columns: ['Date', 'Received Quantity', 'Received Currency', 'Sent Quantity', 'Sent Currency', 'Fee Amount', 'Fee Currency', 'Tag'],
  includes: (row) => !row.aggregated || isSpot(row.coin),
  record: (row: TaxRow) => {
    const fee = { 'Fee Amount': row.fee ?? '', 'Fee Currency': row.fee === null ? '' : (row.fee_token ?? '') }
    if (isSpot(row.coin)) {
      const { received, sent } = spotSwap(row)
      return { Date: usDate(row), 'Received Quantity': received[0], 'Received Currency': received[1], 'Sent Quantity': sent[0], 'Sent Currency': sent[1], ...fee, Tag: '' }
    }
    const pnl = row.closed_pnl ?? '0'
    const token = row.fee_token ?? 'USDC'
    const loss = isNegative(pnl)
    const gain = !loss && !isZero(pnl)
    return {
      Date: usDate(row),
      'Received Quantity': gain ? pnl : '',
      'Received Currency': gain ? token : '',
      'Sent Quantity': loss ? abs(pnl) : '',
      'Sent Currency': loss ? token : '',
      ...fee,
      Tag: '',
    }
  },
}
