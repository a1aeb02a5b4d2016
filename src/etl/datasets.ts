import type { Config, DatasetName } from '#src/config.ts'
import type { RejectedRow } from '#src/decode/event.ts'
import { decodeFillFile } from '#src/decode/node-fills.ts'
import { decodeParquet, openParquetFile } from '#src/decode/parquet.ts'
import { decodeParquetFills } from '#src/decode/parquet-fills.ts'
import type { Session } from '#src/store/db.ts'
import { createFillLoader } from '#src/store/fill-load.ts'
import { createLoader, type LoadCounts } from '#src/store/load.ts'

/** What loading one batch of an object did. */
export interface BatchOutcome extends LoadCounts {
  rejected: RejectedRow[]
  /** Source rows (lines) the batch covers. */
  rowsRead: number
  /** Rows that are not of this dataset (fills without a TWAP id): counted, not stored. */
  dropped: number
}

/**
 * One dataset the ETL ingests: where its objects are, which keys are its files, and how a
 * downloaded file becomes stored rows. The run is the same for every dataset and every
 * source; only this differs.
 */
export interface Dataset {
  name: DatasetName
  /** What one of its files is, for messages (`parquet object`). */
  fileKind: string
  /** File name endings it ingests (lower-case). */
  extensions: readonly string[]
  /** The variable that sets its prefix, for messages. */
  prefixVariable: string
  /** The S3 location and client settings of its bucket. */
  s3(config: Config): Config['s3']
  /**
   * Decodes the file at `path` and loads it through `tx` as object `key`, replacing the
   * rows of an earlier version first when `replaces`; `onBatch` hears of each batch.
   */
  load(tx: Session, key: string, path: string, replaces: boolean, onBatch: (outcome: BatchOutcome) => void): Promise<void>
  /** Tables to ANALYZE after a run that stored rows. */
  tables: readonly string[]
}

/** Joins a decoder and a loader of the same row type into a dataset's `load`. */
function loadWith<R>(
  decode: (path: string, key: string) => AsyncIterable<{ rows: readonly R[]; rejected: RejectedRow[]; rowsRead: number; dropped: number }> | Promise<AsyncIterable<{ rows: readonly R[]; rejected: RejectedRow[]; rowsRead: number; dropped: number }>>,
  loader: (tx: Session, key: string) => Promise<{ replacePrevious(): Promise<number>; add(rows: readonly R[]): Promise<LoadCounts> }>,
): Dataset['load'] {
  return async (tx, key, path, replaces, onBatch) => {
    const batches = await decode(path, key)
    const load = await loader(tx, key)
    if (replaces) await load.replacePrevious()
    for await (const batch of batches) {
      const counts = await load.add(batch.rows)
      onBatch({ ...counts, rejected: batch.rejected, rowsRead: batch.rowsRead, dropped: batch.dropped })
    }
  }
}

const statuses: Dataset = {
  name: 'statuses',
  fileKind: 'parquet object',
  extensions: ['.parquet'],
  prefixVariable: 'AWS_S3_PREFIX',
  s3: (config) => config.s3,
  load: loadWith(
    async (path) => {
      const file = await openParquetFile(path)
      return (async function* () {
        for await (const b of decodeParquet(file)) yield { rows: b.events, rejected: b.rejected, rowsRead: b.rowsRead, dropped: 0 }
      })()
    },
    createLoader,
  ),
  tables: ['twap_status'],
}

const fills: Dataset = {
  name: 'fills',
  fileKind: 'node-fills object (.lz4 or .parquet)',
  extensions: ['.lz4', '.parquet'],
  prefixVariable: 'FILLS_S3_PREFIX',
  s3: (config) => ({ ...config.s3, bucket: config.fills.bucket, prefix: config.fills.prefix, followRegionRedirects: true }),
  load: loadWith(
    async function* (path, key) {
      const batches = key.toLowerCase().endsWith('.parquet') ? decodeParquetFills(path) : decodeFillFile(path)
      for await (const b of batches) yield { rows: b.fills, rejected: b.rejected, rowsRead: b.rowsRead, dropped: b.dropped }
    },
    createFillLoader,
  ),
  tables: ['twap_fill', 'twap_fill_object'],
}

/** Every dataset by name. */
export const DATASETS: Readonly<Record<DatasetName, Dataset>> = { statuses, fills }
