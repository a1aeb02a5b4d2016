/**
 * The embedded engine (PGlite, no DATABASE_URL): the same ingest and the same typical
 * query as on PostgreSQL, so the two can be read side by side.
 */

import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { medianBy, summaryLatency, warmUp } from './api.ts'
import type { Dataset } from './dataset.ts'
import { measureEtl, type IngestResult } from './ingest.ts'
import { autocannon, type LoadResult } from './load-test.ts'
import type { BenchOptions } from './options.ts'
import { exportCsv, medianGet, type ExportRun, type Latency } from './pages.ts'
import { startServer } from './process.ts'
import { twapsPath, type Workload } from './workload.ts'

export interface EmbeddedResults {
  ingest: IngestResult
  http: LoadResult
  typicalMs: number
  /** First page of the largest wallet, median ms. */
  largestFirstMs: number
  /** The largest wallet's year summary, sequential requests after a warm-up. */
  summary: Latency
  /** The typical query again with `If-None-Match` of its ETag: 304s. */
  notModified: LoadResult
  /** The largest wallet's year as CSV: the median run. */
  export: ExportRun
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
      // The tag depends on the content coding: ask as autocannon does (no compression).
      const etag = (await fetch(typicalUrl, { headers: { 'accept-encoding': 'identity' } })).headers.get('etag')
      if (!etag) throw new Error(`GET ${typicalUrl} answered without an ETag`)
      const notModified = await autocannon(typicalUrl, options.connections, options.duration, { server }, { headers: { 'if-none-match': etag }, notModified: true })
      const largestFirstMs = await medianGet(server.url + twapsPath(largest.wallet, start, end))
      const summary = await summaryLatency(server.url, workload, options)
      // As on PostgreSQL: the median of three runs in full mode, one with --quick.
      const exports: ExportRun[] = []
      for (let round = 0; round < (options.quick ? 1 : 3); round++) {
        const run = await exportCsv(server, largest.wallet, start, workload.yearEnd)
        if (run.error) throw new Error(`embedded CSV export failed: ${run.error}`)
        exports.push(run)
      }
      return { ingest, http, typicalMs, largestFirstMs, summary, notModified, export: medianBy(exports) }
    } finally {
      await server.stop()
    }
  } finally {
    await rm(storeEnv.TWAP_DATA_DIR, { recursive: true, force: true })
  }
}
