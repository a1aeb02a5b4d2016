import { isoFromPg } from '#src/store/db.ts'
import type { TaxFillRow } from '#src/store/tax-queries.ts'

/**
 * What every tax format needs to know of a fill: whether it is spot or perp, which
 * currencies it swaps, a unique id, and decimals turned to a platform's sign convention.
 * Decimals stay the database's exact text throughout: a sign is changed by editing the
 * text, never by a JS number.
 */

/** `@N` (a spot pair by index) and `BASE/QUOTE` are spot; anything else (`BTC`, `xyz:NVDA`) is a perp. */
export function isSpot(coin: string | null): boolean {
  return coin !== null && (coin.startsWith('@') || coin.includes('/'))
}

/**
 * A spot pair's two currencies. `PURR/USDC` names both. `@107` names neither: the base
 * stays `@107` (the pair's own id, which the user can rename on the platform) and the quote
 * is USDC, which quotes Hyperliquid's spot pairs.
 */
export function spotCurrencies(coin: string): { base: string; quote: string } {
  const slash = coin.indexOf('/')
  if (slash > 0) return { base: coin.slice(0, slash), quote: coin.slice(slash + 1) }
  return { base: coin, quote: 'USDC' }
}

const ZERO_HASH = /^0x0*$/

/**
 * The id that makes a re-import deduplicate: the transaction hash when the fill has one;
 * TWAP slices carry an all-zero hash, so theirs is `hl-twap:<tid>:<oid>` (a trade's id
 * and this side's order: unique per fill, as the store's key is).
 */
export function fillId(row: TaxRow): string {
  if (row.aggregated) return `hl-twap:${row.twap_id}`
  return row.hash && !ZERO_HASH.test(row.hash) ? row.hash : `hl-twap:${row.tid}:${row.oid}`
}

/** The note every format carries where it has a notes column. */
export function fillNote(row: TaxRow): string {
  if (row.aggregated) return `Hyperliquid TWAP ${row.twap_id}; ${row.dir ?? ''} ${row.coin ?? ''}; ${AGGREGATED_NOTE}`
  const builder = row.builder_fee && !isZero(row.builder_fee) ? `; builder fee ${row.builder_fee}` : ''
  return `Hyperliquid TWAP ${row.twap_id} slice; tid ${row.tid}; oid ${row.oid}; ${row.dir ?? ''} ${row.coin ?? ''}${builder}`
}

export function isZero(decimal: string): boolean {
  return /^-?0*(\.0*)?$/.test(decimal)
}

export function isNegative(decimal: string): boolean {
  return decimal.startsWith('-') && !isZero(decimal)
}

/** |x|, exactly. */
export function abs(decimal: string): string {
  return decimal.startsWith('-') ? decimal.slice(1) : decimal
}

/** The fill's time as `YYYY-MM-DD`, `HH:MM:SS`, UTC (seconds: no platform takes fractions). */
export function utcParts(row: TaxFillRow): { y: string; m: string; d: string; time: string } {
  const iso = isoFromPg(row.time)!
  return { y: iso.slice(0, 4), m: iso.slice(5, 7), d: iso.slice(8, 10), time: iso.slice(11, 19) }
}

/** `MM/DD/YYYY HH:MM:SS`, UTC. */
export function usDate(row: TaxFillRow): string {
  const p = utcParts(row)
  return `${p.m}/${p.d}/${p.y} ${p.time}`
}

/** A spot fill as a swap: a buy (B) receives the base and sends the quote, a sell the reverse. */
export function spotSwap(row: TaxFillRow): { received: [string, string]; sent: [string, string] } {
  const { base, quote } = spotCurrencies(row.coin!)
  const baseLeg: [string, string] = [row.sz, base]
  const quoteLeg: [string, string] = [row.notional, quote]
  return row.side === 'B' ? { received: baseLeg, sent: quoteLeg } : { received: quoteLeg, sent: baseLeg }
}

/** What a TWAP written as one trade says of itself. */
export const AGGREGATED_NOTE = 'aggregated from TWAP status; no per-fill fees'

/**
 * A line of a tax export: a fill, or a whole TWAP written as one trade (`aggregated`),
 * with no fee, no PnL, no tid: its id is `hl-twap:<twap_id>`.
 */
export type TaxRow = TaxFillRow & { aggregated?: boolean }

/** One tax format: its header, which rows it writes, and each row as one record. */
export interface TaxFormat {
  columns: readonly string[]
  includes(row: TaxRow): boolean
  record(row: TaxRow): Record<string, string>
}
