/**
 * Writes TWAP parquet files for tests, in every encoding the Artemis files use, so no test
 * depends on a committed binary. `makeEvents` invents realistic upstream events;
 * `writeTwapParquet` encodes them the way one data-lake tool or another would.
 */

import { writeFile } from 'node:fs/promises'
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm'
import { parquetWriteBuffer, schemaFromColumnData } from 'hyparquet-writer'
import type { ColumnSource, SchemaElement } from 'hyparquet-writer'
import { decodeParquet } from '#src/decode/parquet.ts'
import type { DecodedBatch } from '#src/decode/parquet.ts'
import type { RejectedRow, TwapEvent } from '#src/decode/event.ts'
import { mulberry32 } from '#src/sample.ts'

export { mulberry32 }

/** One upstream TWAP status event, keyed by the column names Artemis gives them. */
export interface SourceEvent {
  /** Event time, ISO-8601 UTC with up to 9 fraction digits, e.g. `2025-12-04T17:00:22.417074898`. */
  time: string
  twap_id: bigint
  state_coin: string
  state_user: string
  state_side: 'A' | 'B'
  /** Decimal strings, as most files carry them. */
  state_sz: string
  state_executedSz: string
  state_executedNtl: string
  state_minutes: number
  state_reduceOnly: boolean
  state_randomize: boolean
  /** Placement time in epoch milliseconds, the same on every event of a TWAP. */
  state_timestamp: number
  status: string | { error: string }
}

export type Codec = 'SNAPPY' | 'ZSTD' | 'UNCOMPRESSED'

/** How a time column is stored; `ms-in-ns-bug` is the early-file bug (epoch ms in a timestamp[ns]). */
export type TimeEncoding =
  | 'timestamp-ms' | 'timestamp-us' | 'timestamp-ns' | 'int64-ms' | 'iso-string' | 'ms-in-ns-bug' | 'none'

export interface TwapParquetOptions {
  codec?: Codec
  /** Rows per row group (default: all rows in one group). */
  rowGroupSize?: number
  /** Encoding of `time` (default `timestamp-ns`); `none` leaves the column out. */
  timeEncoding?: TimeEncoding
  /** Encoding of `state_timestamp` (default `int64-ms`, as upstream); `none` leaves it out. */
  placedEncoding?: TimeEncoding
  /** Parquet TIMESTAMP columns marked UTC-adjusted (default true). */
  utcAdjusted?: boolean
  /** Sizes and notional as decimal strings (default), float64, or int64 (integer part only). */
  numberEncoding?: 'string' | 'float64' | 'int64'
  twapIdEncoding?: 'int64' | 'string'
  /** `string`: nested errors as JSON text; `json`: a JSON column; `variant`: a VARIANT column. */
  statusEncoding?: 'string' | 'json' | 'variant'
  /** Source columns to leave out of the file. */
  omit?: (keyof SourceEvent)[]
  /** Further columns written after the TWAP ones, e.g. unknown extras a newer export adds. */
  extraColumns?: ColumnSource[]
}

/**
 * Encodes events as a parquet file and returns its bytes (an `ArrayBuffer`, which is also
 * a hyparquet `AsyncBuffer`). Strings are dictionary-encoded wherever that pays, as
 * data-lake writers do.
 */
export async function writeTwapParquet(
  events: readonly SourceEvent[],
  options: TwapParquetOptions = {},
): Promise<ArrayBuffer> {
  const omit = new Set<string>(options.omit ?? [])
  const columns: ColumnSource[] = []
  const overrides: Record<string, SchemaElement> = {}
  const utcAdjusted = options.utcAdjusted ?? true

  const timeColumn = (name: string, encoding: TimeEncoding, nanos: bigint[]) => {
    if (encoding === 'none' || omit.has(name)) return
    const timestamp = (unit: 'MILLIS' | 'MICROS' | 'NANOS', data: bigint[]) => {
      columns.push({ name, data })
      overrides[name] = {
        name, type: 'INT64', repetition_type: 'OPTIONAL',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: utcAdjusted, unit },
        ...(unit === 'MILLIS' ? { converted_type: 'TIMESTAMP_MILLIS' } : unit === 'MICROS' ? { converted_type: 'TIMESTAMP_MICROS' } : {}),
      }
    }
    const ms = nanos.map((n) => n / 1_000_000n)
    switch (encoding) {
      case 'timestamp-ms': return timestamp('MILLIS', ms)
      case 'timestamp-us': return timestamp('MICROS', nanos.map((n) => n / 1000n))
      case 'timestamp-ns': return timestamp('NANOS', nanos)
      case 'ms-in-ns-bug': return timestamp('NANOS', ms)
      case 'int64-ms': return columns.push({ name, data: ms, type: 'INT64' })
      case 'iso-string': return columns.push({ name, data: nanos.map(isoWithoutZone), type: 'STRING' })
    }
  }
  const add = (name: keyof SourceEvent, column: Omit<ColumnSource, 'name'>) => {
    if (!omit.has(name)) columns.push({ name, ...column })
  }
  const number = (name: 'state_sz' | 'state_executedSz' | 'state_executedNtl') => {
    const values = events.map((event) => event[name])
    switch (options.numberEncoding ?? 'string') {
      case 'string': return add(name, { data: values, type: 'STRING' })
      case 'float64': return add(name, { data: values.map(Number), type: 'DOUBLE' })
      case 'int64': return add(name, { data: values.map((v) => BigInt(v.split('.')[0] as string)), type: 'INT64' })
    }
  }

  timeColumn('time', options.timeEncoding ?? 'timestamp-ns', events.map((event) => epochNanos(event.time)))
  add('twap_id', options.twapIdEncoding === 'string'
    ? { data: events.map((event) => event.twap_id.toString()), type: 'STRING' }
    : { data: events.map((event) => event.twap_id), type: 'INT64' })
  add('state_coin', { data: events.map((event) => event.state_coin), type: 'STRING' })
  add('state_user', { data: events.map((event) => event.state_user), type: 'STRING' })
  add('state_side', { data: events.map((event) => event.state_side), type: 'STRING' })
  number('state_sz')
  number('state_executedSz')
  number('state_executedNtl')
  add('state_minutes', { data: events.map((event) => event.state_minutes), type: 'INT32' })
  add('state_reduceOnly', { data: events.map((event) => event.state_reduceOnly), type: 'BOOLEAN' })
  add('state_randomize', { data: events.map((event) => event.state_randomize), type: 'BOOLEAN' })
  timeColumn('state_timestamp', options.placedEncoding ?? 'int64-ms', events.map((event) => BigInt(event.state_timestamp) * 1_000_000n))
  const statuses = events.map((event) => event.status)
  switch (options.statusEncoding ?? 'string') {
    case 'string':
      add('status', { data: statuses.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))), type: 'STRING' })
      break
    case 'json':
      add('status', { data: statuses, type: 'JSON' })
      break
    case 'variant':
      add('status', { data: statuses, type: 'VARIANT' })
      break
  }
  columns.push(...(options.extraColumns ?? []))
  return parquetBytes(columns, { codec: options.codec, rowGroupSize: options.rowGroupSize, overrides })
}

/** `writeTwapParquet` to a file at `path`. */
export async function writeTwapParquetFile(
  path: string,
  events: readonly SourceEvent[],
  options: TwapParquetOptions = {},
): Promise<void> {
  await writeFile(path, new Uint8Array(await writeTwapParquet(events, options)))
}

/**
 * Any columns as parquet bytes, for files that are not TWAP-shaped (missing columns,
 * odd types). `overrides` replaces the inferred schema element of a column by name.
 */
export async function parquetBytes(
  columnData: ColumnSource[],
  options: { codec?: Codec; rowGroupSize?: number; overrides?: Record<string, SchemaElement> } = {},
): Promise<ArrayBuffer> {
  const codec = options.codec ?? 'SNAPPY'
  const rows = columnData[0]?.data.length ?? 0
  const schema = schemaFromColumnData({
    columnData: columnData.map((column) =>
      options.overrides?.[column.name] ? { name: column.name, data: column.data } : column),
    schemaOverrides: options.overrides,
  })
  return parquetWriteBuffer({
    // With an explicit schema hyparquet-writer wants no per-column types.
    columnData: columnData.map(({ type: _type, ...column }) => column),
    schema,
    codec,
    compressors: codec === 'ZSTD' ? { ZSTD: await zstd() } : undefined,
    rowGroupSize: options.rowGroupSize ?? Math.max(rows, 1),
  })
}

let zstdReady: Promise<void> | undefined

/**
 * A ZSTD compressor for hyparquet-writer, which ships only snappy. Node 20's zlib has no
 * zstd, so this is the WebAssembly build of the reference library (no native install).
 */
async function zstd(): Promise<(input: Uint8Array) => Uint8Array> {
  zstdReady ??= zstdInit()
  await zstdReady
  return (input) => zstdCompress(input, 3)
}

/** Decodes a whole file and gathers every batch, for assertions. */
export async function decodeAll(
  file: ArrayBuffer,
  options?: { batchRows?: number },
): Promise<{ events: TwapEvent[]; rejected: RejectedRow[]; batches: DecodedBatch[] }> {
  const batches: DecodedBatch[] = []
  for await (const batch of decodeParquet(file, options)) batches.push(batch)
  return {
    events: batches.flatMap((batch) => batch.events),
    rejected: batches.flatMap((batch) => batch.rejected),
    batches,
  }
}

/** Epoch nanoseconds of an ISO-8601 UTC string (zone optional) with up to 9 fraction digits. */
export function epochNanos(iso: string): bigint {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z?$/.exec(iso)
  if (!match) throw new Error(`not an ISO instant: ${iso}`)
  const seconds = BigInt(Date.parse(`${match[1]}Z`)) / 1000n
  return seconds * 1_000_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'))
}

/** `YYYY-MM-DDTHH:MM:SS.fffffffff` without a zone, as Hyperliquid's node output writes `time`. */
export function isoWithoutZone(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0')
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}`
}

export interface MakeEventsOptions {
  /** How many wallets, or the addresses to use. */
  wallets?: number | string[]
  twapsPerWallet?: number
  /** Placement time of the first TWAP (default 2025-11-03T00:00:00Z). */
  start?: string | Date
  seed?: number
  /** First TWAP id (default 1,400,000). */
  firstTwapId?: number
  /** Share of TWAPs still running: only their `activated` event exists (default 0.05). */
  runningShare?: number
}

const COINS = ['BTC', 'ETH', 'HYPE', 'SOL', '@107', '@142', 'PURR/USDC', 'xyz:NVDA', 'xyz:TSLA']
const PRICES: Record<string, number> = {
  'BTC': 9_512_345, 'ETH': 345_678, 'HYPE': 3_912, 'SOL': 16_045, '@107': 3_905, '@142': 12,
  'PURR/USDC': 17, 'xyz:NVDA': 18_233, 'xyz:TSLA': 44_210,
} // in cents
const MINUTES = [5, 10, 15, 30, 60, 120, 240, 1440]
const ERRORS = ['Insufficient margin to place order.', 'Reduce only order would increase position.', 'Order price cannot be more than 80% away from the reference price']

/**
 * Realistic upstream events, sorted by time: each TWAP has an `activated` event at
 * placement (sub-ms digits included) and, unless still running, one `finished`,
 * `terminated` or error event later, with cumulative executed size and notional.
 * Deterministic for a given seed.
 */
export function makeEvents(options: MakeEventsOptions = {}): SourceEvent[] {
  const random = mulberry32(options.seed ?? 1)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T
  const wallets = typeof options.wallets === 'object'
    ? options.wallets
    : Array.from({ length: options.wallets ?? 3 }, () => '0x' + Array.from({ length: 40 }, () => pick([...'0123456789abcdef'])).join(''))
  const twapCount = wallets.length * (options.twapsPerWallet ?? 2)
  const runningShare = options.runningShare ?? 0.05
  let placedMs = new Date(options.start ?? '2025-11-03T00:00:00Z').getTime()
  const firstId = BigInt(options.firstTwapId ?? 1_400_000)
  const events: SourceEvent[] = []
  for (let t = 0; t < twapCount; t++) {
    placedMs += 1 + Math.floor(random() * 90_000)
    const coin = pick(COINS)
    const minutes = pick(MINUTES)
    const sizeUnits = 1 + Math.floor(random() * 5_000_000) // size in 1e-4
    const state = {
      twap_id: firstId + BigInt(t),
      state_coin: coin,
      state_user: wallets[t % wallets.length] as string,
      state_side: random() < 0.5 ? 'B' as const : 'A' as const,
      state_sz: scaled(BigInt(sizeUnits), 4),
      state_minutes: minutes,
      state_reduceOnly: random() < 0.2,
      state_randomize: random() < 0.5,
      state_timestamp: placedMs,
    }
    const placedNanos = BigInt(placedMs) * 1_000_000n + BigInt(Math.floor(random() * 1_000_000))
    events.push({ ...state, time: isoWithoutZone(placedNanos), state_executedSz: '0.0', state_executedNtl: '0.0', status: 'activated' })
    if (t >= twapCount * (1 - runningShare)) continue
    const roll = random()
    const kind = roll < 0.7 ? 'finished' : roll < 0.9 ? 'terminated' : 'error'
    const doneUnits = kind === 'finished' ? sizeUnits : kind === 'terminated' ? Math.floor(sizeUnits * random()) : 0
    const elapsedMs = kind === 'finished' ? minutes * 60_000 : kind === 'terminated' ? Math.floor(minutes * 60_000 * random()) : 2_000
    const priceCents = BigInt(PRICES[coin] ?? 100)
    events.push({
      ...state,
      time: isoWithoutZone(placedNanos + BigInt(elapsedMs) * 1_000_000n + BigInt(Math.floor(random() * 1_000))),
      state_executedSz: scaled(BigInt(doneUnits), 4),
      state_executedNtl: scaled(BigInt(doneUnits) * priceCents, 6),
      status: kind === 'error' ? { error: pick(ERRORS) } : kind,
    })
  }
  return events.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
}

/** `units / 10^scale` as a decimal string with at least one fraction digit, e.g. `"0.0"`, `"12.5"`. */
function scaled(units: bigint, scale: number): string {
  const digits = units.toString().padStart(scale + 1, '0')
  const fraction = digits.slice(-scale).replace(/0+$/, '') || '0'
  return `${digits.slice(0, -scale)}.${fraction}`
}
