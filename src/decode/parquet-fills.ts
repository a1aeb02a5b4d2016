/**
 * Parquet files of node fills (the Artemis `raw/node_fills/` layout: one row per fill, a
 * `user` column beside the fill's fields) → TWAP slice fills. Only a file with a TWAP id
 * column can say which fills are TWAP slices; one without fails, saying so.
 */

import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet'
import type { Compressors } from 'hyparquet'
import { compressors as hyparquetCompressors } from 'hyparquet-compressors'
import { decodeEvent, type FillBatch } from './node-fills.ts'

const compressors = hyparquetCompressors as Compressors

/** The names a TWAP id column goes by. */
const TWAP_ID_COLUMNS = ['twapId', 'twap_id'] as const

/** Row groups are read one at a time; a batch is at most one row group. */
export async function* decodeParquetFills(path: string): AsyncGenerator<FillBatch> {
  const file = await asyncBufferFromFile(path)
  let metadata
  try {
    metadata = await parquetMetadataAsync(file)
  } catch (error) {
    throw new Error(`not a parquet file of fills: ${(error as Error).message}`, { cause: error })
  }
  const names = parquetSchema(metadata).children.map((child) => child.element.name)
  const twapColumn = TWAP_ID_COLUMNS.find((name) => names.includes(name))
  if (!twapColumn) {
    throw new Error(`no TWAP id column (twapId or twap_id): its fills cannot be told from ordinary ones (file has: ${names.join(', ') || 'no columns'})`)
  }
  if (!names.includes('user')) throw new Error(`no user column (file has: ${names.join(', ')})`)
  let start = 0
  for (const group of metadata.row_groups) {
    const rows = Number(group.num_rows)
    const batch: FillBatch = { fills: [], rejected: [], rowsRead: rows, dropped: 0, parsed: rows }
    const objects = await parquetReadObjects({ file, metadata, compressors, rowStart: start, rowEnd: start + rows })
    objects.forEach((row, i) => {
      const { user, [twapColumn]: twapId, ...fill } = row
      decodeEvent([user, { ...fill, twapId }], null, start + i, 0, batch)
    })
    start += rows
    yield batch
  }
}
