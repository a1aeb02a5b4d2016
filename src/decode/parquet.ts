/**
 * Parquet file → TWAP events. Reads one row group at a time, column by column, and turns
 * each source row into a `TwapEvent` (or a `RejectedRow` saying why it cannot be one).
 * The columns read are the statuses table's (`event.ts`); the encodings are every one the
 * Artemis files use.
 */

import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet'
import type { AsyncBuffer, ColumnData, Compressors, DecodedArray, FileMetaData, ParquetParsers, SchemaElement } from 'hyparquet'
import { parquetHeader } from 'hyparquet/src/column.js'
import { compressors as hyparquetCompressors } from 'hyparquet-compressors'
import { readerOf, STATUS_FIELDS, type RejectedRow, type StatusField, type TwapEvent } from './event.ts'
import { normalizeTime, ParquetTimestamp } from './time.ts'
import { decimalFromUnscaled } from './decimal.ts'
import { integerText } from './integer.ts'
import { jsonString, jsonValue } from './json.ts'
import { memoizeStrings } from './memoize.ts'

export type { AsyncBuffer }

/** One slice of a file's rows, decoded: every row read is in `events` or in `rejected`. */
export interface DecodedBatch {
  events: TwapEvent[]
  rejected: RejectedRow[]
  /** Source rows this batch covers (`events.length + rejected.length`). */
  rowsRead: number
}

/** The file lacks columns every TWAP event needs; `missing` names each of them. */
export class SchemaError extends Error {
  readonly missing: string[]
  constructor(missing: string[], present: string[]) {
    super(`missing required columns: ${missing.join(', ')} (file has: ${present.join(', ') || 'no columns'})`)
    this.missing = missing
    this.name = 'SchemaError'
  }
}

/** Rows per yielded batch unless the caller says otherwise. */
const DEFAULT_BATCH_ROWS = 5_000

const compressors = hyparquetCompressors as Compressors

// Timestamps come back as the integers the file holds, never `Date` (which keeps only ms):
// the unit is decided by magnitude in time.ts, which also repairs ms written as ns.
const parsers: Partial<ParquetParsers> = {
  timestampFromMilliseconds: (value) => new ParquetTimestamp(value),
  timestampFromMicroseconds: (value) => new ParquetTimestamp(value),
  timestampFromNanoseconds: (value) => new ParquetTimestamp(value),
  // A JSON column with one malformed cell must not fail the file: keep that cell as text.
  jsonFromBytes: (bytes: Uint8Array | undefined) => {
    if (!bytes) return bytes
    const s = utf8.decode(bytes)
    try {
      return JSON.parse(s) as unknown
    } catch {
      return s
    }
  },
}

const utf8 = new TextDecoder()

/**
 * Opens a local parquet file as an `AsyncBuffer` that reads only the byte ranges asked
 * for, so a large file is never held in memory whole.
 */
export function openParquetFile(path: string): Promise<AsyncBuffer> {
  return asyncBufferFromFile(path)
}

/**
 * Decodes a parquet file into batches of at most `batchRows` source rows (default
 * 5,000). Row groups are read one at a time, so memory holds one row group's columns
 * and one batch, never the whole file. Throws `SchemaError` before reading any row when
 * a required column is missing, and an `Error` naming the problem for a corrupt or
 * non-parquet file.
 */
export async function* decodeParquet(
  file: AsyncBuffer,
  options: { batchRows?: number } = {},
): AsyncGenerator<DecodedBatch> {
  const batchRows = Math.max(1, Math.floor(options.batchRows ?? DEFAULT_BATCH_ROWS))
  const source = await readMetadata(file)
  const { metadata, decimalScales, utf8: decodeUtf8 } = unscaledDecimals(source)
  const names = parquetSchema(metadata).children.map((child) => child.element.name)
  const fields = resolveColumns(names)

  let batch: DecodedBatch = { events: [], rejected: [], rowsRead: 0 }
  let groupStart = 0
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const groupRows = Number((metadata.row_groups[g] as { num_rows: bigint }).num_rows)
    const groupEnd = groupStart + groupRows
    if (groupRows === 0) continue
    let columns: Map<string, DecodedArray>
    try {
      await checkPageHeaders(file, metadata, g)
      columns = await readRowGroup(file, metadata, decodeUtf8, groupStart, groupEnd)
    } catch (error) {
      throw new Error(
        `corrupt parquet data in row group ${g} (rows ${groupStart}–${groupEnd - 1}): ${messageOf(error)}`,
        { cause: error },
      )
    }
    for (const [name, scale] of decimalScales) {
      const values = columns.get(name)
      if (values) columns.set(name, Array.from(values as ArrayLike<unknown>, (v) => decimalFromUnscaled(v, scale)))
    }
    const decoder = rowDecoder(fields, names, columns, groupStart)
    for (let i = 0; i < groupRows;) {
      const end = Math.min(groupRows, i + batchRows - batch.rowsRead)
      decoder(i, end, batch)
      batch.rowsRead += end - i
      i = end
      if (batch.rowsRead >= batchRows) {
        yield batch
        batch = { events: [], rejected: [], rowsRead: 0 }
      }
    }
    groupStart = groupEnd
  }
  if (batch.rowsRead > 0) yield batch
}

/** The file's metadata, or an error that says the file is not (valid) parquet. */
async function readMetadata(file: AsyncBuffer): Promise<FileMetaData> {
  if (file.byteLength < 12) {
    throw new Error(`not a parquet file: ${file.byteLength} bytes is too short to hold one`)
  }
  const tail = new Uint8Array(await file.slice(file.byteLength - 4, file.byteLength))
  if (tail[0] !== 0x50 || tail[1] !== 0x41 || tail[2] !== 0x52 || tail[3] !== 0x31) {
    throw new Error('not a parquet file: it does not end with the PAR1 magic bytes')
  }
  try {
    return await parquetMetadataAsync(file, { parsers })
  } catch (error) {
    throw new Error(`corrupt parquet footer: ${messageOf(error)}`, { cause: error })
  }
}

/**
 * hyparquet turns DECIMAL columns into floats, which loses digits. This hands back
 * metadata whose top-level DECIMAL columns read as their unscaled integers, and the scale
 * of each, so they can be formatted exactly. A DECIMAL stored as BYTE_ARRAY would
 * otherwise be decoded as UTF-8, so text decoding of unannotated bytes is then left to us.
 */
function unscaledDecimals(metadata: FileMetaData): {
  metadata: FileMetaData
  decimalScales: Map<string, number>
  utf8: boolean
} {
  const decimalScales = new Map<string, number>()
  let decodeUtf8 = true
  const schema: SchemaElement[] = metadata.schema.slice()
  for (const child of parquetSchema(metadata).children) {
    const element = child.element
    const isDecimal = element.converted_type === 'DECIMAL' || element.logical_type?.type === 'DECIMAL'
    if (child.children.length > 0 || !isDecimal) continue
    const scale = element.logical_type?.type === 'DECIMAL' ? element.logical_type.scale : element.scale ?? 0
    decimalScales.set(element.name, scale)
    if (element.type === 'BYTE_ARRAY') decodeUtf8 = false
    const index = metadata.schema.indexOf(element)
    schema[index] = { ...element, converted_type: undefined, logical_type: undefined }
  }
  if (decimalScales.size === 0) return { metadata, decimalScales, utf8: true }
  return { metadata: { ...metadata, schema }, decimalScales, utf8: decodeUtf8 }
}

/** Bytes of a column chunk the header walk reads at once, so a huge chunk is never held whole twice. */
const HEADER_WINDOW = 64 * 1024

/**
 * Walks every page header of row group `g` before hyparquet decodes it, and throws naming
 * the column and byte of the first damaged one. hyparquet trusts page headers: a header
 * with a field missing (a flipped bit in its thrift bytes) makes it read levels from
 * offset `undefined`, which loops forever on one byte and blocks the whole process, and
 * other damage makes it throw from deep inside. Each data page must say how many values
 * it holds, with what encoding, in a size that fits the chunk, and the pages must add up
 * to the chunk's value count: then hyparquet's loops end.
 */
async function checkPageHeaders(file: AsyncBuffer, metadata: FileMetaData, g: number): Promise<void> {
  const group = metadata.row_groups[g]!
  for (const column of group.columns) {
    const meta = column.meta_data
    if (!meta) throw new Error(`row group ${g} has a column chunk without metadata`)
    const name = meta.path_in_schema.join('.')
    const dictionary = meta.dictionary_page_offset === undefined ? undefined : Number(meta.dictionary_page_offset)
    const start = dictionary !== undefined && dictionary > 0 && dictionary < Number(meta.data_page_offset) ? dictionary : Number(meta.data_page_offset)
    const end = start + Number(meta.total_compressed_size)
    const fail = (at: number, what: string): never => {
      throw new Error(`damaged page header in column ${name} at byte ${at}: ${what}`)
    }
    if (!(start >= 4 && end <= file.byteLength - 8 && end > start)) fail(start, `column chunk [${start}, ${end}) lies outside the file`)
    let values = 0
    for (let at = start; at < end;) {
      let reader = { view: new DataView(await file.slice(at, Math.min(end, at + HEADER_WINDOW))), offset: 0 }
      let header: ReturnType<typeof parquetHeader>
      try {
        header = parquetHeader(reader)
      } catch (error) {
        // A header with large statistics can reach past the window: read the rest of the chunk.
        if (at + HEADER_WINDOW >= end) fail(at, messageOf(error))
        reader = { view: new DataView(await file.slice(at, end)), offset: 0 }
        try {
          header = parquetHeader(reader)
        } catch (retryError) {
          fail(at, messageOf(retryError))
        }
      }
      const size = header!.compressed_page_size
      if (!isCount(size) || !isCount(header!.uncompressed_page_size)) fail(at, 'no valid page size')
      const next = at + reader.offset + size
      if (next > end) fail(at, `a ${size}-byte page overruns the column chunk`)
      switch (header!.type) {
        case 'DICTIONARY_PAGE':
          if (!isCount(header!.dictionary_page_header?.num_values)) fail(at, 'dictionary page without a value count')
          break
        case 'DATA_PAGE': {
          const page = header!.data_page_header
          if (!page || !isCount(page.num_values) || page.encoding === undefined) fail(at, 'data page without a value count or encoding')
          values += page!.num_values
          break
        }
        case 'DATA_PAGE_V2': {
          const page = header!.data_page_header_v2
          if (!page || !isCount(page.num_values) || !isCount(page.num_nulls) || !isCount(page.num_rows) || page.encoding === undefined ||
            !isCount(page.definition_levels_byte_length) || !isCount(page.repetition_levels_byte_length) ||
            page.num_nulls > page.num_values || page.definition_levels_byte_length + page.repetition_levels_byte_length > size) {
            fail(at, 'data page (v2) with missing or inconsistent counts')
          }
          values += page!.num_values
          break
        }
        case 'INDEX_PAGE':
          break
        default:
          fail(at, `unknown page type ${String(header!.type)}`)
      }
      at = next
    }
    if (values !== Number(meta.num_values)) fail(start, `its pages hold ${values} values, the footer says ${meta.num_values}`)
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Every column of rows [rowStart, rowEnd), one array per top-level column, by name. */
async function readRowGroup(
  file: AsyncBuffer,
  metadata: FileMetaData,
  decodeUtf8: boolean,
  rowStart: number,
  rowEnd: number,
): Promise<Map<string, DecodedArray>> {
  const chunks = new Map<string, ColumnData[]>()
  await parquetRead({
    file, metadata, rowStart, rowEnd, compressors, parsers, utf8: decodeUtf8,
    onChunk(chunk) {
      const list = chunks.get(chunk.columnName)
      if (list) list.push(chunk)
      else chunks.set(chunk.columnName, [chunk])
    },
  })
  const columns = new Map<string, DecodedArray>()
  const length = rowEnd - rowStart
  for (const [name, list] of chunks) {
    const only = list[0] as ColumnData
    if (list.length === 1 && only.rowStart === rowStart && only.columnData.length === length) {
      columns.set(name, only.columnData)
      continue
    }
    // Pages can reach past the requested rows; keep exactly [rowStart, rowEnd).
    const values: unknown[] = new Array(length).fill(null)
    for (const chunk of list) {
      const from = Math.max(chunk.rowStart, rowStart)
      const to = Math.min(chunk.rowEnd, rowEnd)
      for (let r = from; r < to; r++) values[r - rowStart] = chunk.columnData[r - chunk.rowStart]
    }
    columns.set(name, values)
  }
  return columns
}

/** The file's name of each field's source column (`undefined` when absent), by event key. */
type Fields = Record<StatusField['key'], string | undefined>

const TWAP_ID = STATUS_FIELDS[0]
const USER = STATUS_FIELDS[1]
const TIME = fieldOf('ts')
const PLACED = fieldOf('placedAt')

function fieldOf<K extends StatusField['key']>(key: K): Extract<StatusField, { key: K }> {
  return STATUS_FIELDS.find((f) => f.key === key) as Extract<StatusField, { key: K }>
}

/**
 * Finds each field's source column by its exact name, else case-insensitively (lake
 * catalogs often lower-case names: `state_executedsz`). Throws `SchemaError` naming every
 * missing required column; an event's time may come from its placement time instead.
 */
function resolveColumns(names: string[]): Fields {
  const find = (wanted: string): string | undefined => {
    if (names.includes(wanted)) return wanted
    const lower = wanted.toLowerCase()
    return names.find((name) => name.toLowerCase() === lower)
  }
  const fields = Object.fromEntries(STATUS_FIELDS.map((f) => [f.key, find(f.source)])) as Fields
  const missing: string[] = []
  if (fields.twapId === undefined) missing.push(TWAP_ID.source)
  if (fields.wallet === undefined) missing.push(USER.source)
  if (fields.ts === undefined && fields.placedAt === undefined) missing.push(`${TIME.source} or ${PLACED.source}`)
  if (missing.length > 0) throw new SchemaError(missing, names)
  return fields
}

type Column = ArrayLike<unknown> | undefined

/** The fields read the same way on every row: all but the id, the wallet and the two times. */
const PLAIN_FIELDS = STATUS_FIELDS.filter((f) => f !== TWAP_ID && f !== USER && f !== TIME && f !== PLACED)

/**
 * A function decoding rows [from, to) of one row group into `batch`. Columns are looked
 * up once here so the per-row loop only indexes arrays.
 */
function rowDecoder(
  fields: Fields,
  names: string[],
  columns: Map<string, DecodedArray>,
  groupStart: number,
): (from: number, to: number, batch: DecodedBatch) => void {
  const column = (name: string | undefined): Column =>
    name === undefined ? undefined : (columns.get(name) as ArrayLike<unknown> | undefined)
  const twapIds = column(fields.twapId)
  const users = column(fields.wallet)
  const times = column(fields.ts)
  const placedTimes = column(fields.placedAt)
  const toWallet = readerOf('wallet')
  const plainKeys = PLAIN_FIELDS.map((f) => f.key)
  const plainColumns = PLAIN_FIELDS.map((f) => column(fields[f.key]))
  const plainReaders = PLAIN_FIELDS.map((f) => readerOf(f.kind))
  const plainCount = PLAIN_FIELDS.length

  // Raw JSON pieces: `{"a":` then `,"b":` …, each followed by its cell, then `}`.
  const rawKeys = names.map((name, k) => (k === 0 ? '{' : ',') + jsonString(name) + ':')
  const rawColumns = names.map((name) => column(name))
  const rawCells = names.map(() => memoizeStrings(jsonValue))
  const rawCount = names.length
  // Joined rather than appended: `+=` leaves a rope of one node per piece alive in every
  // event, which more than doubles the memory a batch holds and the time GC spends on it.
  const rawParts: string[] = []
  for (let k = 0; k < rawCount; k++) rawParts.push(rawKeys[k] as string, '')
  rawParts.push('}')

  return (from, to, batch) => {
    const { events, rejected } = batch
    for (let i = from; i < to; i++) {
      const twapValue = twapIds?.[i]
      const twapId = integerText(twapValue)
      if (twapId === null) {
        rejected.push({ row: groupStart + i, reason: isAbsent(twapValue) ? `missing ${TWAP_ID.source}` : `invalid ${TWAP_ID.source} ${preview(twapValue)}` })
        continue
      }
      const userValue = users?.[i]
      const address = toWallet(userValue) as string | null
      if (address === null) {
        rejected.push({
          row: groupStart + i,
          reason: isAbsent(userValue) ? `missing ${USER.source} (wallet)` : `invalid wallet in ${USER.source} ${preview(userValue)}: expected 0x and 40 hex digits`,
        })
        continue
      }
      const placedAt = placedTimes === undefined ? null : normalizeTime(placedTimes[i])
      const ts = (times === undefined ? null : normalizeTime(times[i])) ?? placedAt
      if (ts === null) {
        rejected.push({ row: groupStart + i, reason: `no usable time: ${timeValues(fields, times?.[i], placedTimes?.[i])}` })
        continue
      }
      for (let k = 0; k < rawCount; k++) {
        const values = rawColumns[k]
        rawParts[2 * k + 1] = values === undefined ? 'null' : (rawCells[k] as (value: unknown) => string)(values[i])
      }
      const event = { twapId, wallet: address, ts, placedAt, raw: rawParts.join('') } as Record<string, unknown>
      for (let k = 0; k < plainCount; k++) {
        const values = plainColumns[k]
        event[plainKeys[k] as string] = values === undefined ? null : (plainReaders[k] as (value: unknown) => unknown)(values[i])
      }
      events.push(event as TwapEvent)
    }
  }
}

function isAbsent(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '')
}

/** A cell as short JSON for an error message. */
function preview(value: unknown): string {
  const json = jsonValue(value)
  return json.length > 60 ? json.slice(0, 57) + '…' : json
}

function timeValues(fields: Fields, time: unknown, placed: unknown): string {
  const parts: string[] = []
  if (fields.ts !== undefined) parts.push(`${fields.ts}=${describeTime(time)}`)
  if (fields.placedAt !== undefined) parts.push(`${fields.placedAt}=${describeTime(placed)}`)
  return parts.join(', ') + ' (need an instant between 2000 and 2100)'
}

function describeTime(value: unknown): string {
  if (isAbsent(value)) return 'null'
  return preview(value instanceof ParquetTimestamp ? value.value : value)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
