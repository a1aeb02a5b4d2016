/**
 * Hyperliquid node fills (JSON lines) → TWAP slice fills. Two line shapes: a block,
 * `{"local_time", "block_time", "block_number", "events": [[user, fill], …]}`, and a bare
 * `[user, fill]` pair. Only fills with a `twapId` are kept; the others are counted.
 */

import { createReadStream } from 'node:fs'
import { isLosslessNumber, parse, stringify } from 'lossless-json'
import type { RejectedRow } from './event.ts'
import { FILL_FIELDS, KIND_NOUNS, readField, type TwapFill } from './fill.ts'
import { decompressLz4 } from './lz4-frame.ts'

/** One slice of a file's lines, decoded. */
export interface FillBatch {
  fills: TwapFill[]
  /** Fills (or whole lines) that could not be used, with the reason. */
  rejected: RejectedRow[]
  /** Lines this batch covers. */
  rowsRead: number
  /** Fills without a TWAP id: not stored, only counted. */
  dropped: number
}

/** Fills per yielded batch unless the caller says otherwise. */
const DEFAULT_BATCH_FILLS = 5_000

/** A line longer than this is not a block of fills: the file is not what it claims to be. */
const MAX_LINE_BYTES = 256 * 1024 * 1024

// The values of a decoded fill are slices of the text they were parsed from, which keep that
// whole decompressed chunk alive: a batch is handed over at least this often, so a file with
// few TWAP fills per megabyte does not hold hundreds of megabytes of text for them.
const MAX_HELD_BYTES = 32 * 1024 * 1024

/** The object cannot be read as lines of fills (a line over the limit). */
export class FillFileError extends Error {
  override name = 'FillFileError'
}

// A TWAP slice fill is a fill whose `twapId` is not null. A line without this text holds
// none and is passed over without being parsed, which most lines are; a line with it is
// parsed whole and decides. `\u` escapes could spell the key another way, and a line that
// does not look like one whole JSON value may be damaged: both are parsed whole too, so the
// shortcut never drops a line a full parse would keep or reject.
const TWAP_ID_SET = /"twapId"\s*:\s*(?!null\s*[,}])/
const TWAP_ID_NULL = /"twapId"\s*:\s*null\s*[,}]/g

/**
 * True when `line` may hold a TWAP fill or be malformed, so it must be parsed whole; false
 * when it certainly holds none.
 */
export function needsFullParse(line: string): boolean {
  if (TWAP_ID_SET.test(line) || line.includes('\\u')) return true
  const first = line.charCodeAt(0)
  const last = line.charCodeAt(line.length - 1)
  return !((first === 123 /* { */ && last === 125 /* } */) || (first === 91 /* [ */ && last === 93 /* ] */))
}

/** How many fills without a TWAP id a line that `needsFullParse` passed over holds. */
export function countUntwapped(line: string): number {
  TWAP_ID_NULL.lastIndex = 0
  let n = 0
  while (TWAP_ID_NULL.exec(line)) n++
  return n
}

/**
 * Splits decompressed bytes into lines and yields batches of decoded fills. Memory holds
 * one chunk and the line in progress.
 */
export async function* decodeFillLines(chunks: AsyncIterable<Uint8Array>, options: { batchFills?: number; fullParse?: boolean } = {}): AsyncGenerator<FillBatch> {
  const batchFills = options.batchFills ?? DEFAULT_BATCH_FILLS
  const decoder = new TextDecoder('utf-8', { fatal: false })
  let batch: FillBatch = { fills: [], rejected: [], rowsRead: 0, dropped: 0 }
  let carry = ''
  let line = 0
  let held = 0
  const take = (text: string) => {
    const n = line++
    const trimmed = text.endsWith('\r') ? text.slice(0, -1).trim() : text.trim()
    batch.rowsRead++
    if (trimmed.length === 0) return
    if (!options.fullParse && !needsFullParse(trimmed)) batch.dropped += countUntwapped(trimmed)
    else decodeLine(trimmed, n, batch)
  }
  for await (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true })
    let start = 0
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      take(text.slice(start, nl))
      start = nl + 1
    }
    carry = text.slice(start)
    if (carry.length > MAX_LINE_BYTES) throw new FillFileError(`line ${line + 1} is over ${MAX_LINE_BYTES} bytes: not a file of fill lines`)
    held += chunk.length
    if (batch.fills.length >= batchFills || (held >= MAX_HELD_BYTES && batch.fills.length + batch.rejected.length > 0)) {
      yield batch
      batch = { fills: [], rejected: [], rowsRead: 0, dropped: 0 }
      held = 0
    }
  }
  carry += decoder.decode()
  if (carry.length > 0) take(carry)
  if (batch.rowsRead > 0) yield batch
}

/** Parses one line whole into `batch`: its TWAP fills, rejections and dropped count. */
function decodeLine(text: string, line: number, batch: FillBatch): void {
  let value: unknown
  try {
    // Numbers stay as their source digits: ids pass 2^53, and raw payloads keep every digit.
    value = parse(text)
  } catch (err) {
    batch.rejected.push({ row: line, reason: `line ${line + 1} is not JSON: ${(err as Error).message}` })
    return
  }
  if (Array.isArray(value)) {
    decodeEvent(value, null, line, 0, batch)
    return
  }
  if (isObject(value) && Array.isArray(value.events)) {
    const events = value.events as unknown[]
    for (let i = 0; i < events.length; i++) decodeEvent(events[i], value, line, i, batch)
    return
  }
  batch.rejected.push({ row: line, reason: `line ${line + 1} is neither a block ({"block_number", "events": [[user, fill], …]}) nor a [user, fill] pair` })
}

function decodeEvent(event: unknown, block: Record<string, unknown> | null, line: number, index: number, batch: FillBatch): void {
  const where = block ? `line ${line + 1}, event ${index}` : `line ${line + 1}`
  if (!Array.isArray(event) || event.length < 2 || !isObject(event[1])) {
    batch.rejected.push({ row: line, reason: `${where} is not a [user, fill] pair` })
    return
  }
  const [user, fill] = event as [unknown, Record<string, unknown>]
  if (fill.twapId === undefined || fill.twapId === null) {
    batch.dropped++
    return
  }
  const row = { raw: stringify(fill) ?? '{}' } as TwapFill
  for (const field of FILL_FIELDS) {
    const source = field.from === 'user' ? user : field.from === 'block' ? block?.[field.source] : fill[field.source]
    const plain = isLosslessNumber(source) ? source.value : source
    const value = plain === undefined || plain === null ? null : readField(field.kind, field.kind === 'decimal' && typeof plain !== 'string' ? String(plain) : plain)
    const missing = plain === undefined || plain === null
    // Text and flags are kept as NULL when odd; a number or id that is not one fails the fill.
    if (value === null && (missing ? 'required' in field : field.kind !== 'text' && field.kind !== 'bool')) {
      const noun = KIND_NOUNS[field.kind]
      batch.rejected.push({ row: line, reason: `${where}: ${missing ? `no ${field.source} (${noun})` : `${field.source} ${stringify(plain) ?? String(plain)} is not ${noun}`}` })
      return
    }
    row[field.column] = value
  }
  batch.fills.push(row)
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * The TWAP fills of a local LZ4 file of node fills, in batches, read as a stream: the file
 * is never held whole, compressed or not. Frame errors (not LZ4, truncated, a checksum)
 * throw `Lz4FrameError`; content errors become rejections.
 */
export function decodeFillFile(path: string): AsyncGenerator<FillBatch> {
  return decodeFillLines(decompressLz4(createReadStream(path, { highWaterMark: 1 << 20 })))
}
