/**
 * Which hours of source data an object holds, read from its key. Both buckets partition
 * by hour, but their layouts differ and change over time, so no single layout is assumed:
 * each pattern below is one way keys have been written, tried in turn, and a key none of
 * them matches says nothing (the ingest then takes the hours from the data's own times).
 */

const HOUR_MS = 3_600_000

/** A run of whole UTC hours: `count` hours from `start` (epoch ms, on the hour). */
export interface HourSpan {
  start: number
  count: number
}

/** A span; null when the key has the pattern's shape but no real date or hour there; undefined when it lacks the shape. */
type Match = (key: string) => HourSpan | null | undefined

const hour = (y: string, mo: string, d: string, h: string): HourSpan | null => span(y, mo, d, Number(h), 1)
const day = (y: string, mo: string, d: string): HourSpan | null => span(y, mo, d, 0, 24)

function span(y: string, mo: string, d: string, h: number, count: number): HourSpan | null {
  const year = Number(y), month = Number(mo), date = Number(d)
  if (month < 1 || month > 12 || date < 1 || date > 31 || h > 23) return null
  const start = Date.UTC(year, month - 1, date, h)
  // Date.UTC rolls 2025-02-30 over into March: such a key is not a date.
  if (new Date(start).getUTCDate() !== date) return null
  return { start, count }
}

// Most specific first: a key with an hour is never read as the whole day it is in.
const PATTERNS: Match[] = [
  // Artemis: raw/twap_statuses/hourly/2025/08/17/13/part-0.parquet
  (key) => on(/(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})(?:\/|$)/.exec(key), hour),
  // Hive style: …/dt=2025-08-17/hour=13/… or date=…/hour=…
  (key) => on(/(?:dt|date)=(\d{4})-(\d{2})-(\d{2})\/(?:hour|hr|h)=(\d{1,2})(?:\/|$)/.exec(key), hour),
  // Hyperliquid's node data: node_fills_by_block/hourly/20251027/6.lz4
  (key) => on(/(?:^|\/)(\d{4})(\d{2})(\d{2})\/(\d{1,2})\.[a-z0-9.]+$/i.exec(key), hour),
  // One file an hour, named by it: 2025-08-17T13.parquet, 2025-08-17-13.parquet, 20250817T13…
  (key) => on(/(?:^|\/|_)(\d{4})-?(\d{2})-?(\d{2})[T_-](\d{2})(?:[^0-9:]|$)/.exec(key), hour),
  // Daily partitions: …/2025/08/17/… , dt=2025-08-17/…, 20250817/… , 2025-08-17.parquet
  (key) => on(/(?:^|\/)(\d{4})\/(\d{2})\/(\d{2})(?:\/|$)/.exec(key), day),
  (key) => on(/(?:dt|date)=(\d{4})-(\d{2})-(\d{2})(?:\/|$)/.exec(key), day),
  (key) => on(/(?:^|\/)(\d{4})(\d{2})(\d{2})\//.exec(key), day),
  (key) => on(/(?:^|\/|_)(\d{4})-(\d{2})-(\d{2})\.[a-z0-9.]+$/i.exec(key), day),
]

function on<A extends string[]>(m: RegExpExecArray | null, make: (...args: A) => HourSpan | null): HourSpan | null | undefined {
  return m ? make(...(m.slice(1) as A)) : undefined
}

/**
 * The hours the key `key` says its object holds: one hour for an hourly layout, a whole
 * UTC day for a daily one, null when the key names no date. Only dates from 2000 to 2099
 * count, so a number that merely looks like one (an id, a size) is not taken for a date.
 */
export function hoursOfKey(key: string): HourSpan | null {
  for (const match of PATTERNS) {
    const found = match(key)
    if (found === undefined) continue
    // A key shaped like a layout but naming no real hour (2025/08/17/24) is not read as a coarser one.
    return found && found.start >= Date.UTC(2000, 0, 1) && found.start < Date.UTC(2100, 0, 1) ? found : null
  }
  return null
}

/** The hours from the one holding `firstMs` to the one holding `lastMs`, both included. */
export function hoursBetween(firstMs: number, lastMs: number): HourSpan {
  const start = Math.floor(firstMs / HOUR_MS) * HOUR_MS
  return { start, count: Math.floor(lastMs / HOUR_MS) - start / HOUR_MS + 1 }
}
