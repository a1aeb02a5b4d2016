import { abs, fillId, fillNote, isNegative, isSpot, isZero, spotSwap, utcParts, type TaxFormat, type TaxRow } from './common.ts'

/**
 * Koinly's universal layout, spot and perp fills in one file. A spot fill is a trade (sent
 * and received). A perp fill moves only its realized PnL: a profit is received, a loss
 * sent, both labelled `realized gain` as Koinly asks for margin trades; a fill that
 * realizes nothing (an opening) is its fee alone, sent and labelled `margin fee` (a maker
 * rebate, a negative fee, is received and labelled `realized gain`).
 */

/** `YYYY-MM-DD HH:MM:SS UTC`. */
function koinlyDate(row: TaxRow): string {
  const p = utcParts(row)
  return `${p.y}-${p.m}-${p.d} ${p.time} UTC`
}

const empty = { 'Sent Amount': '', 'Sent Currency': '', 'Received Amount': '', 'Received Currency': '' }

function legs(row: TaxRow): { legs: Record<keyof typeof empty, string>; label: string; fee: boolean } {
  if (isSpot(row.coin)) {
    const { received, sent } = spotSwap(row)
    return { legs: { 'Sent Amount': sent[0], 'Sent Currency': sent[1], 'Received Amount': received[0], 'Received Currency': received[1] }, label: '', fee: true }
  }
  const token = row.fee_token ?? 'USDC'
  const pnl = row.closed_pnl ?? '0'
  if (!isZero(pnl)) {
    return isNegative(pnl)
      ? { legs: { ...empty, 'Sent Amount': abs(pnl), 'Sent Currency': token }, label: 'realized gain', fee: true }
      : { legs: { ...empty, 'Received Amount': pnl, 'Received Currency': token }, label: 'realized gain', fee: true }
  }
  const fee = row.fee ?? '0'
  return isNegative(fee)
    ? { legs: { ...empty, 'Received Amount': abs(fee), 'Received Currency': token }, label: 'realized gain', fee: false }
    : { legs: { ...empty, 'Sent Amount': fee, 'Sent Currency': token }, label: 'margin fee', fee: false }
}

export const koinly: TaxFormat = {
  columns: ['Date', 'Sent Amount', 'Sent Currency', 'Received Amount', 'Received Currency', 'Fee Amount', 'Fee Currency', 'Net Worth Amount', 'Net Worth Currency', 'Label', 'Description', 'TxHash'],
  includes: (row) => !row.aggregated || isSpot(row.coin),
  record: (row: TaxRow) => {
    const { legs: amounts, label, fee } = legs(row)
    const withFee = fee && row.fee !== null
    return {
      Date: koinlyDate(row),
      ...amounts,
      'Fee Amount': withFee ? row.fee! : '',
      'Fee Currency': withFee ? (row.fee_token ?? '') : '',
      'Net Worth Amount': '',
      'Net Worth Currency': '',
      Label: label,
      Description: fillNote(row),
      TxHash: fillId(row),
    }
  },
}
