/**
 * Ingest measurements: `hl-twap etl` as a child process (local files or the local S3
 * server) into a fresh database, and the plain `COPY` of the same rows beside it.
 */

import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startS3Server } from '../tests/support/s3-server.ts'
import { watchBackendCpu, type WatchedDb } from './backend-cpu.ts'
import { COPY_COLUMNS } from './copy-text.ts'
import type { Dataset } from './dataset.ts'
import { CLI, runMeasured, type Finished } from './process.ts'

export interface IngestResult {
  label: string
  rows: number
  objects: number
  /** The run's own duration: the ETL summary's, or COPY's wall time. */
  seconds: number
  /** Wall time of the whole process, start-up and migrations check included. */
  wallSeconds: number
  peakRss: number
  rowsPerSecond: number
  objectsPerSecond: number
  /** CPU seconds of the loading process (hl-twap or psql), and of the PostgreSQL backends serving it. */
  clientCpu: number | null
  dbCpu: number | null
}

/** The fields of the ETL's summary log line the benchmark reads. */
interface EtlSummaryLine {
  objectsOk: number
  objectsFailed: number
  rowsInserted: number
  rowsDuplicate: number
  rowsRejected: number
  durationMs: number
}

/**
 * Runs `hl-twap etl <args>` with `env` (which names the database) and returns its figures.
 * Throws unless every object was ingested and every row of the data set inserted.
 */
export async function measureEtl(label: string, dataset: Dataset, args: string[], env: NodeJS.ProcessEnv, cwd: string, db?: WatchedDb): Promise<IngestResult> {
  const { run, dbCpu } = await withBackendCpu(db, () =>
    runMeasured(process.execPath, [CLI, 'etl', ...args], { env: { ...env, LOG_LEVEL: 'info' }, cwd }))
  const summary = summaryOf(run.stderr)
  if (summary.objectsFailed > 0 || summary.rowsInserted !== dataset.rows) {
    throw new Error(`${label}: expected ${dataset.rows} rows inserted from ${dataset.files.length} objects, got ${JSON.stringify(summary)}`)
  }
  const seconds = summary.durationMs / 1000
  return {
    label,
    rows: summary.rowsInserted,
    objects: summary.objectsOk,
    seconds,
    wallSeconds: run.wallMs / 1000,
    peakRss: run.peakRss,
    rowsPerSecond: summary.rowsInserted / seconds,
    objectsPerSecond: summary.objectsOk / seconds,
    clientCpu: run.cpuSeconds,
    dbCpu,
  }
}

function summaryOf(stderr: string): EtlSummaryLine {
  for (const line of stderr.trim().split('\n').reverse()) {
    if (!line.startsWith('{')) continue
    const record = JSON.parse(line) as Partial<EtlSummaryLine>
    if (typeof record.rowsInserted === 'number' && typeof record.durationMs === 'number') return record as EtlSummaryLine
  }
  throw new Error(`no ETL summary in its output:\n${stderr.slice(-2000)}`)
}

/** `psql \copy` of the COPY text into `twap_status` of the database at `url`: the physical limit. */
export async function measureCopy(dataset: Dataset, copyFile: string, url: string, cwd: string, db?: WatchedDb): Promise<IngestResult> {
  const command = `\\copy twap_status (${COPY_COLUMNS.join(', ')}) FROM '${copyFile}'`
  const { run, dbCpu } = await withBackendCpu(db, () =>
    runMeasured('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', command], { env: process.env, cwd }))
  const rows = Number(/COPY (\d+)/.exec(run.stdout)?.[1] ?? NaN)
  if (rows !== dataset.rows) throw new Error(`COPY loaded ${rows} rows, expected ${dataset.rows}: ${run.stdout} ${run.stderr}`)
  const seconds = run.wallMs / 1000
  return {
    label: 'plain COPY (psql \\copy)',
    rows,
    objects: dataset.files.length,
    seconds,
    wallSeconds: seconds,
    peakRss: run.peakRss,
    rowsPerSecond: rows / seconds,
    objectsPerSecond: dataset.files.length / seconds,
    clientCpu: run.cpuSeconds,
    dbCpu,
  }
}

/** Runs `fn` while counting the CPU of the backends serving `db` (when given). */
async function withBackendCpu(db: WatchedDb | undefined, fn: () => Promise<Finished>): Promise<{ run: Finished; dbCpu: number | null }> {
  const watch = db ? await watchBackendCpu(db) : undefined
  let stopped = false
  try {
    const run = await fn()
    stopped = true
    return { run, dbCpu: watch ? await watch.stop() : null }
  } finally {
    if (!stopped) await watch?.stop()
  }
}

const BUCKET = 'bench-bucket'
const PREFIX = 'raw/twap_statuses/'

/**
 * The data set served by the local S3 test server under an hourly layout (with `_SUCCESS`
 * markers beside the files, as data-lake tooling leaves them), and the environment that
 * points `hl-twap` at it with fake keys. `close` stops the server.
 */
export async function serveDatasetOverS3(dataset: Dataset): Promise<{ env: NodeJS.ProcessEnv; close: () => Promise<void> }> {
  const server = await startS3Server({ bucket: BUCKET })
  const folders = new Set<string>()
  for (const file of dataset.files) {
    server.putObject(PREFIX + file.path, await readFile(join(dataset.dir, file.path)))
    folders.add(file.path.slice(0, file.path.lastIndexOf('/') + 1))
  }
  for (const folder of folders) server.putObject(`${PREFIX}${folder}_SUCCESS`, '')
  return {
    env: {
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_S3_FORCE_PATH_STYLE: 'true',
      AWS_S3_BUCKET: BUCKET,
      AWS_S3_PREFIX: PREFIX,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
    close: () => server.close(),
  }
}
