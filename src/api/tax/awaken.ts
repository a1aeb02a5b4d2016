import { fillId, fillNote, isSpot, spotSwap, usDate, type TaxFormat, type TaxRow } from './common.ts'

/**
 * Awaken's two CSV layouts. Awaken imports perpetuals and trades as separate files with
 * separate headers, so `awaken` is the perp fills in its perpetuals layout and
 * `awaken-spot` the spot fills in its trade layout: one request per file.
 */

/** `Open Long` / `Open Short` open a position; every other direction (closes, flips) realizes PnL. */
function positionTag(dir: string | null): string {
  return dir?.startsWith('Open') ? 'open_position' : 'close_position'
}

export const awakenPerps: TaxFormat = {
  columns: ['Date', 'Asset', 'Amount', 'Fee', 'P&L', 'Payment Token', 'Notes', 'Transaction Hash', 'Tag'],
  includes: (row) => !isSpot(row.coin),
  record: (row: TaxRow) => ({
    Date: usDate(row),
    Asset: row.coin ?? '',
    Amount: row.sz,
    Fee: row.fee ?? (row.aggregated ? '' : '0'),
    'P&L': row.closed_pnl ?? (row.aggregated ? '' : '0'),
    'Payment Token': row.fee_token ?? 'USDC',
    Notes: fillNote(row),
    'Transaction Hash': fillId(row),
    Tag: positionTag(row.dir),
  }),
}

export const awakenSpot: TaxFormat = {
  columns: ['Date', 'Received Quantity', 'Received Currency', 'Received Fiat Amount', 'Sent Quantity', 'Sent Currency', 'Sent Fiat Amount', 'Fee Amount', 'Fee Currency', 'Transaction Hash', 'Notes', 'Tag'],
  includes: (row) => isSpot(row.coin),
  record: (row: TaxRow) => {
    const { received, sent } = spotSwap(row)
    return {
      Date: usDate(row),
      'Received Quantity': received[0],
      'Received Currency': received[1],
      'Received Fiat Amount': '',
      'Sent Quantity': sent[0],
      'Sent Currency': sent[1],
      'Sent Fiat Amount': '',
      'Fee Amount': row.fee ?? '',
      'Fee Currency': row.fee === null ? '' : (row.fee_token ?? ''),
      'Transaction Hash': fillId(row),
      Notes: fillNote(row),
      Tag: '',
    }
  },
}
