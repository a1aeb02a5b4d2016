import { createHmac, timingSafeEqual } from 'node:crypto'
import { formatInstant, parseInstant } from './instant.ts'
import type { PagePosition, TwapRange } from '#src/store/twap-queries.ts'

const MAX_ID = 2n ** 63n - 1n
const SHAPE = /^(c2\|([0-9TZ:.-]{10,40})\|([01])\|(\d{1,19}))\|([0-9a-f]{32})$/

/**
 * The `next_cursor` of a page: base64url of the last TWAP's position in the page order
 * (its summary row's ts, terminal flag and id) and an HMAC with `key` over that position
 * and the query (wallet, range, asset), so that a cursor pasted into another query, or
 * edited anywhere, is refused instead of silently skipping or repeating TWAPs. Not a
 * secret: anyone can read the position; only the server can make one.
 */
export function encodeCursor(position: PagePosition, scope: TwapRange, key: string): string {
  const text = ['c2', position.ts, position.isTerminal ? '1' : '0', position.id].join('|')
  return Buffer.from(`${text}|${mac(key, text, scope)}`).toString('base64url')
}

/**
 * The position a cursor resumes after, or null when `cursor` is not one this service
 * signed for the same wallet, range and asset.
 */
export function decodeCursor(cursor: string, scope: TwapRange, key: string): PagePosition | null {
  const m = SHAPE.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
  if (!m || !timingSafeEqual(Buffer.from(m[5]!), Buffer.from(mac(key, m[1]!, scope)))) return null
  const ts = parseInstant(m[2]!)
  if (ts === null || BigInt(m[4]!) > MAX_ID) return null
  return { ts: formatInstant(ts), isTerminal: m[3] === '1', id: m[4]! }
}

// The query a cursor is bound to is its normalised range: wallet, start, end and asset.
function mac(key: string, text: string, scope: TwapRange): string {
  const bound = JSON.stringify([text, scope.wallet, scope.start, scope.end, scope.asset])
  return createHmac('sha256', key).update(bound).digest('hex').slice(0, 32)
}
