/**
 * The plain-COPY baseline's input: the data set's rows as PostgreSQL COPY text, exactly
 * the rows and column values the ETL stores, so that `COPY` of this file into a migrated
 * database is the physical limit the ingest is compared against.
 */

import { createWriteStream, existsSync } from 'node:fs'
import { rename, stat } from 'node:fs/promises'
import { once } from 'node:events'
import { join } from 'node:path'
import { decodeParquet, openParquetFile } from '#src/decode/parquet.ts'
import { createHash } from 'node:crypto'
import { COPY_COLUMNS, toCopyText } from '#src/store/load.ts'
import type { Dataset } from './dataset.ts'

/** The columns `toCopyText` writes, in its order. */
export { COPY_COLUMNS } from '#src/store/load.ts'

/**
 * Writes `copy-<columns>.txt` beside the data set (once: it is kept with the cached files,
 * named by the column order so that a change of the statuses table writes it again) and
 * returns its path and size. Each file's rows carry the object key the ETL gives a local
 * file, `local:<absolute path>`.
 */
export async function ensureCopyText(dataset: Dataset): Promise<{ path: string; bytes: number }> {
  const columns = createHash('sha256').update(COPY_COLUMNS.join(',')).digest('hex').slice(0, 8)
  const path = join(dataset.dir, `copy-${columns}.txt`)
  if (!existsSync(path)) {
    const partial = `${path}.partial`
    const out = createWriteStream(partial)
    for (const file of dataset.files) {
      const absolute = join(dataset.dir, file.path)
      for await (const batch of decodeParquet(await openParquetFile(absolute), { batchRows: 20_000 })) {
        if (!out.write(toCopyText(batch.events, `local:${absolute}`))) await once(out, 'drain')
      }
    }
    out.end()
    await once(out, 'finish')
    await rename(partial, path)
  }
  return { path, bytes: (await stat(path)).size }
}
