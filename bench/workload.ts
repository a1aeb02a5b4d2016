/**
 * What the API benchmark asks: the wallets it queries (the largest, and a typical one),
 * the URLs, and the SQL the API issues for the typical query, so pgbench can run exactly
 * that statement with the same parameters.
 */

import { formatInstant, parseInstant } from '#src/api/instant.ts'
import { DEFAULT_LIMIT } from '#src/api/schemas/twaps.ts'
import type { Queryable } from '#src/store/db.ts'
import { twapPage, type TwapRange } from '#src/store/twap-queries.ts'
import type { Dataset } from './dataset.ts'

/** Events of the typical wallet: about 50 TWAPs, a tax platform's usual user in a year. */
const TYPICAL_EVENTS = 100

export interface WalletStats {
  wallet: string
  events: number
  twaps: number
}

export interface Workload {
  largest: WalletStats
  typical: WalletStats
  /** The data set's whole span, as `start`/`end` query parameters (dates). */
  start: string
  end: string
  /** A calendar year from `start`, for the CSV export. */
  yearEnd: string
}

/** Picks the wallets from the ingested database (one query over `twap_status`). */
export async function chooseWorkload(query: (sql: string) => Promise<WalletStats[]>, dataset: Dataset): Promise<Workload> {
  const wallets = await query(`
    SELECT wallet, count(*)::int AS events, count(DISTINCT twap_id)::int AS twaps
      FROM twap_status GROUP BY wallet ORDER BY events DESC, wallet`)
  const largest = wallets[0]
  if (!largest) throw new Error('the ingested database has no rows')
  const typical = wallets.reduce((best, w) =>
    Math.abs(w.events - TYPICAL_EVENTS) < Math.abs(best.events - TYPICAL_EVENTS) ? w : best)
  const yearEnd = new Date(Date.parse(`${dataset.start}T00:00:00Z`) + 365 * 86_400_000).toISOString().slice(0, 10)
  return { largest, typical, start: dataset.start, end: dataset.end, yearEnd }
}

/** `/api/v1/twaps?wallet=…&start=…&end=…` plus any further parameters. */
export function twapsPath(wallet: string, start: string, end: string, extra: Record<string, string> = {}): string {
  return `/api/v1/twaps?${new URLSearchParams({ wallet, start, end, ...extra })}`
}

/** `/api/v1/wallets/{wallet}/summary?start=…&end=…`. */
export function summaryPath(wallet: string, start: string, end: string): string {
  return `/api/v1/wallets/${encodeURIComponent(wallet)}/summary?${new URLSearchParams({ start, end })}`
}

/** Sequential requests of the largest wallet's year summary whose p50 and p99 are reported. */
export function summaryRequests(quick: boolean): number {
  return quick ? 20 : 100
}

/**
 * The statement and parameters the API runs for the first page of `wallet` in
 * [start, end], captured by calling the API's own query function on a recorder, so the
 * pgbench script cannot drift from what the server executes.
 */
export async function firstPageStatement(wallet: string, start: string, end: string, limit = DEFAULT_LIMIT + 1, withRaw = true): Promise<{ sql: string; params: unknown[] }> {
  const range: TwapRange = { wallet, start: apiInstant(start), end: apiInstant(end), asset: null }
  let captured: { sql: string; params: unknown[] } | undefined
  const recorder: Queryable = {
    async query<R>(sql: string, params: readonly unknown[] = []) {
      captured = { sql, params: [...params] }
      return { rows: [] as R[], rowCount: 0 }
    },
    async exec() {},
  }
  // The route asks for one row more than a page to learn whether another page follows.
  await twapPage(recorder, range, null, limit, withRaw)
  if (!captured) throw new Error('twapPage issued no query')
  return captured
}

/** An instant as the API normalises a query parameter before querying. */
function apiInstant(text: string): string {
  const micros = parseInstant(text)
  if (micros === null) throw new Error(`not an instant: ${text}`)
  return formatInstant(micros)
}
