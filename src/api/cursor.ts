import { createHash } from 'node:crypto'
import { formatInstant, parseInstant } from './instant.ts'
import type { PagePosition, TwapRange } from '../store/twap-queries.ts'

const MAX_ID = 2n ** 63n - 1n
const SHAPE = /^c1\|([0-9TZ:.-]{10,40})\|([01])\|(\d{1,19})\|([0-9a-f]{16})$/

/**
 * The `next_cursor` of a page: base64url of the last TWAP's position in the page order
 * (its summary row's ts, terminal flag and id) and a short hash of the query, so that a
 * cursor pasted into another query, or edited, is rejected instead of silently skipping
 * TWAPs. Not a secret: anyone can read a position, and a forged one only pages oddly.
 */
export function encodeCursor(position: PagePosition, scope: TwapRange): string {
  const text = ['c1', position.ts, position.isTerminal ? '1' : '0', position.id, scopeHash(scope)].join('|')
  return Buffer.from(text).toString('base64url')
}

/**
 * The position a cursor resumes after, or null when `cursor` is not one this service
 * issued for the same wallet, range and asset.
 */
export function decodeCursor(cursor: string, scope: TwapRange): PagePosition | null {
  const m = SHAPE.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
  if (!m || m[4] !== scopeHash(scope)) return null
  const ts = parseInstant(m[1]!)
  if (ts === null || BigInt(m[3]!) > MAX_ID) return null
  return { ts: formatInstant(ts), isTerminal: m[2] === '1', id: m[3]! }
}

// The query a cursor is bound to is its normalised range: wallet, start, end and asset.
function scopeHash(scope: TwapRange): string {
  const key = JSON.stringify([scope.wallet, scope.start, scope.end, scope.asset])
  return createHash('sha256').update(key).digest('hex').slice(0, 16)
}
