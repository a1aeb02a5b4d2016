/**
 * The embedded engine (PGlite, no DATABASE_URL): the same ingest and the same typical
 * query as on PostgreSQL, so the two can be read side by side.
 */

import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { warmUp } from './api.ts'
import type { Dataset } from './dataset.ts'
import { measureEtl, type IngestResult } from './ingest.ts'
import { autocannon, type LoadResult } from './load-test.ts'
import type { BenchOptions } from './options.ts'
import { medianGet } from './pages.ts'
import { startServer } from './process.ts'
import { twapsPath, type Workload } from './workload.ts'

export interface EmbeddedResults {
  ingest: IngestResult
  http: LoadResult
  typicalMs: number
  /** First page of the largest wallet, median ms. */
  largestFirstMs: number
}

/** Ingests the data set into a fresh embedded store under `work`, then loads its API. */
export async function measureEmbedded(dataset: Dataset, workload: Workload, env: NodeJS.ProcessEnv, work: string, options: BenchOptions): Promise<EmbeddedResults> {
  const storeEnv = { ...env, TWAP_DATA_DIR: join(work, 'embedded') }
  try {
    const ingest = await measureEtl('embedded: hl-twap etl --local-file', dataset, ['--local-file', dataset.dir], storeEnv, work)
    const server = await startServer({ ...storeEnv, LOG_LEVEL: options.logLevel }, work)
    try {
      const { typical, largest, start, end } = workload
      const typicalUrl = server.url + twapsPath(typical.wallet, start, end)
      await warmUp(typicalUrl)
      const typicalMs = await medianGet(typicalUrl)
      const http = await autocannon(typicalUrl, options.connections, options.duration, { server })
      const largestFirstMs = await medianGet(server.url + twapsPath(largest.wallet, start, end))
      return { ingest, http, typicalMs, largestFirstMs }
    } finally {
      await server.stop()
    }
  } finally {
    await rm(storeEnv.TWAP_DATA_DIR, { recursive: true, force: true })
  }
}
