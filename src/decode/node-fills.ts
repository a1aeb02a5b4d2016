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
  /** Lines that were parsed whole (the rest held no TWAP fill and were only scanned). */
  parsed: number
}

/**
 * Fills per yielded batch unless the caller says otherwise. A batch is held until it is
 * stored, each fill with its raw text and fields, so this bounds what an object in flight
 * holds; a thousand keeps several large objects in flight within the memory goal of
 * bench/RESULTS.md for one COPY per thousand fills.
 */
const DEFAULT_BATCH_FILLS = 1_000

/** A line longer than this is not a block of fills: the file is not what it claims to be. */
const MAX_LINE_BYTES = 256 * 1024 * 1024

/** The object cannot be read as lines of fills (a line over the limit). */
export class FillFileError extends Error {
  override name = 'FillFileError'
}

// A TWAP slice fill is a fill whose `twapId` is not null. A line is scanned as bytes for
// that key: when every `"twapId"` in it is followed by `: null`, the line holds no TWAP fill
// and is passed over, neither decoded to text nor parsed, which most lines are; a line with
// any other value is parsed whole and decides. A `\u` escape could spell the key another
// way, and a line that does not look like one whole JSON value may be damaged: both are
// parsed whole too, so the shortcut never drops a line a full parse would keep or reject.
// The key is found by its `w`, a byte rare in fills (memchr finds it far faster than the
// whole key, whose `"` is everywhere), and checked around it.
const KEY = Buffer.from('"twapId"')
const W = 0x77
const W_AT = KEY.indexOf(W)
const ESCAPE = Buffer.from('\\u')

function isSpace(b: number | undefined): boolean {
  return b === 32 || b === 9 || b === 13 || b === 10 || b === 11 || b === 12
}

/** The next `"twapId"` at or after `from` (where its `"` is), or -1. */
function nextKey(buf: Buffer, from: number): number {
  for (let w = buf.indexOf(W, from + W_AT); w !== -1; w = buf.indexOf(W, w + 1)) {
    const at = w - W_AT
    if (at + KEY.length <= buf.length && buf[at] === 34 && buf[at + 1] === 116 && buf[at + 3] === 97 && buf[at + 4] === 112 && buf[at + 5] === 73 && buf[at + 6] === 100 && buf[at + 7] === 34) return at
  }
  return -1
}

/** After a `"twapId"` key ending at `at`: `null`, `set` (another value) or `none` (no colon: not a key). */
function keyValue(buf: Buffer, at: number, end: number): 'null' | 'set' | 'none' {
  let i = at
  while (i < end && isSpace(buf[i])) i++
  if (i >= end || buf[i] !== 58 /* : */) return 'none'
  i++
  while (i < end && isSpace(buf[i])) i++
  if (i + 4 <= end && buf[i] === 110 && buf[i + 1] === 117 && buf[i + 2] === 108 && buf[i + 3] === 108) {
    let j = i + 4
    while (j < end && isSpace(buf[j])) j++
    if (j < end && (buf[j] === 44 /* , */ || buf[j] === 125 /* } */)) return 'null'
  }
  return 'set'
}

/**
 * Splits decompressed bytes into lines and yields batches of decoded fills. Memory holds
 * one chunk and the line in progress. `fullParse` parses every line whole, for comparison.
 */
export async function* decodeFillLines(chunks: AsyncIterable<Uint8Array>, options: { batchFills?: number; fullParse?: boolean } = {}): AsyncGenerator<FillBatch> {
  const batchFills = options.batchFills ?? DEFAULT_BATCH_FILLS
  const utf8 = new TextDecoder('utf-8', { fatal: false })
  let batch: FillBatch = { fills: [], rejected: [], rowsRead: 0, dropped: 0, parsed: 0 }
  // The unterminated line at the end of the chunks so far, in pieces (copies: a piece must
  // not keep its whole chunk alive).
  let carry: Buffer[] = []
  let carried = 0
  let line = 0
  /** Takes the whole lines of `buf` from `from` (and, when `last`, the unterminated one); returns where the rest starts. */
  const scan = (buf: Buffer, from: number, last: boolean): number => {
    let start = from
    let key = nextKey(buf, start)
    let escape = buf.indexOf(ESCAPE, start)
    while (start < buf.length) {
      let nl = buf.indexOf(10, start)
      if (nl === -1) {
        if (!last) return start
        nl = buf.length
      }
      const n = line++
      batch.rowsRead++
      let candidate = false
      let nulls = 0
      for (; key !== -1 && key < nl; key = nextKey(buf, key + KEY.length)) {
        const value = keyValue(buf, key + KEY.length, nl)
        if (value === 'null') nulls++
        else if (value === 'set') candidate = true
      }
      if (escape !== -1 && escape < start) escape = buf.indexOf(ESCAPE, start)
      if (escape !== -1 && escape < nl) candidate = true
      let s = start
      let e = nl
      start = nl + 1
      while (s < e && isSpace(buf[s])) s++
      while (e > s && isSpace(buf[e - 1])) e--
      if (s === e) continue
      const first = buf[s]
      const end = buf[e - 1]
      const whole = (first === 123 /* { */ && end === 125 /* } */) || (first === 91 /* [ */ && end === 93 /* ] */)
      if (!options.fullParse && !candidate && whole) {
        batch.dropped += nulls
        continue
      }
      batch.parsed++
      decodeLine(utf8.decode(buf.subarray(s, e)), n, batch)
    }
    return buf.length
  }
  for await (const chunk of chunks) {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
    let from = 0
    if (carried > 0) {
      // The line begun in earlier chunks ends in this one (or goes on past it): it alone is joined.
      const nl = buf.indexOf(10)
      if (nl === -1) {
        carry.push(Buffer.from(buf))
        carried += buf.length
        if (carried > MAX_LINE_BYTES) throw new FillFileError(`line ${line + 1} is over ${MAX_LINE_BYTES} bytes: not a file of fill lines`)
        continue
      }
      scan(Buffer.concat([...carry, buf.subarray(0, nl + 1)]), 0, true)
      carry = []
      carried = 0
      from = nl + 1
    }
    const rest = scan(buf, from, false)
    if (rest < buf.length) {
      carry = [Buffer.from(buf.subarray(rest))]
      carried = buf.length - rest
      if (carried > MAX_LINE_BYTES) throw new FillFileError(`line ${line + 1} is over ${MAX_LINE_BYTES} bytes: not a file of fill lines`)
    }
    if (batch.fills.length >= batchFills) {
      yield batch
      batch = { fills: [], rejected: [], rowsRead: 0, dropped: 0, parsed: 0 }
    }
  }
  if (carried > 0) scan(Buffer.concat(carry), 0, true)
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

/**
 * Decodes one `[user, fill]` pair into `batch`: a TWAP fill, a rejection naming what is
 * wrong, or a dropped fill without a TWAP id. `block` is the block line it came in, if any.
 */
export function decodeEvent(event: unknown, block: Record<string, unknown> | null, line: number, index: number, batch: FillBatch): void {
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
    const plain = isLosslessNumber(source) ? source.value : source instanceof Date ? source.getTime() : source
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
