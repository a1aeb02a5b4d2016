import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import type { Config, DatasetName } from '#src/config.ts'
import type { RejectedRow } from '#src/decode/event.ts'
import type { Metrics } from '#src/metrics.ts'
import { createS3Client } from '#src/source/s3-client.ts'
import { downloadObject } from '#src/source/s3-download.ts'
import { describeS3Error } from '#src/source/s3-errors.ts'
import { headObject, isIngestibleKey, listObjects } from '#src/source/s3-listing.ts'
import { listLocalFiles } from '#src/source/local.ts'
import { recordCoverage } from '#src/store/coverage.ts'
import type { Db } from '#src/store/db.ts'
import { reconcileObject, twapsOfObject } from '#src/store/reconcile.ts'
import { isDatabaseUnavailable } from '#src/store/unavailable.ts'
import { isSampleKey, loggedSampleKeys, readIngestLog, recordIngest, removeSample, type IngestRecord } from '#src/store/ingest-log.ts'
import { DATASETS, type Dataset } from './datasets.ts'
import { EtlDatabaseLostError, EtlRefusedError } from './errors.ts'
import { withEtlLock } from './lock.ts'
import { estimateCost, planObjects, type CostEstimate, type Plan, type PlannedObject, type SourceObject } from './plan.ts'
import type { EtlSummary } from './summary.ts'

export { EtlDatabaseLostError, EtlRefusedError } from './errors.ts'
export type { EtlSummary } from './summary.ts'

/** Which objects a run considers (the mutually exclusive modes of `hl-twap etl`). */
export type EtlSource =
  | { kind: 'incremental'; since?: Date }
  | { kind: 'object'; key: string }
  | { kind: 'local'; paths: string[] }

export interface EtlOptions {
  source: EtlSource
  /** Which dataset the run ingests (default `statuses`). */
  dataset?: DatasetName
  dryRun?: boolean
  force?: boolean
  maxBytes?: number
  concurrency?: number
  /** Stops the run between objects: those in flight finish, the rest wait for the next run. */
  signal?: AbortSignal
}

export interface ObjectResult {
  key: string
  ok: boolean
  error?: string
  bytes: number
  inserted: number
  duplicate: number
  rejected: number
  /** Rows not of the dataset (fills without a TWAP id): counted, not stored. */
  dropped: number
  /** The first few rejected rows, to show the user why. */
  rejections: RejectedRow[]
  durationMs: number
}

/** Receives progress; `progress.ts` turns it into a bar on a terminal or log lines. */
export interface EtlReporter {
  planned(plan: Plan, cost: CostEstimate, dryRun: boolean): void
  bytes(n: number): void
  rows(n: number): void
  objectDone(result: ObjectResult): void
  finished(summary: EtlSummary): void
}

export interface EtlDeps {
  db: Db
  config: Config
  logger: Logger
  metrics?: Metrics
  reporter?: EtlReporter
  /** An S3 client to use instead of one built from the configuration. */
  s3?: S3Client
}

const MAX_REJECTIONS_SHOWN = 5

/**
 * One ETL run: takes the database's ETL lock, finds the candidate objects, plans what to
 * fetch against the ingest log, and ingests each object in its own transaction together
 * with its log entry, several at a time. A failing object is logged with its error and
 * the rest go on. Returns the run's summary; throws only when the run as a whole cannot
 * proceed (busy, listing fails, refused, the database lost: `EtlDatabaseLostError`).
 */
export async function runEtl(deps: EtlDeps, options: EtlOptions): Promise<EtlSummary> {
  const { db, metrics } = deps
  try {
    const summary = await withEtlLock(db, (lockLost) => run(deps, options, lockLost))
    if (!summary.dryRun) {
      const result = summary.objectsFailed ? 'failed' : summary.objectsLeft ? 'stopped' : 'success'
      metrics?.runs.inc({ result })
      metrics?.lastRunSeconds.set(summary.durationMs / 1000)
      if (result === 'success') metrics?.lastSuccess.set(Date.now() / 1000)
    }
    return summary
  } catch (err) {
    metrics?.runs.inc({ result: (err as Error).name === 'EtlBusyError' ? 'busy' : 'failed' })
    throw err
  }
}

/** What one run works with: its dataset, that dataset's S3 settings, and the client when it reads S3. */
interface RunContext {
  dataset: Dataset
  s3Config: Config['s3']
  s3: S3Client | undefined
}

async function run(deps: EtlDeps, options: EtlOptions, lockLost: AbortSignal): Promise<EtlSummary> {
  const started = performance.now()
  const dataset = DATASETS[options.dataset ?? 'statuses']
  const s3Config = dataset.s3(deps.config)
  const needsS3 = options.source.kind !== 'local'
  const ownClient = needsS3 && !deps.s3
  const s3 = needsS3 ? (deps.s3 ?? createS3Client(s3Config)) : undefined
  try {
    return await runWith(deps, options, { dataset, s3Config, s3 }, started, lockLost)
  } finally {
    // A client made for this run goes with it: a scheduled process makes one a day.
    if (ownClient) s3?.destroy()
  }
}

async function runWith(deps: EtlDeps, options: EtlOptions, context: RunContext, started: number, lockLost: AbortSignal): Promise<EtlSummary> {
  const { db, config, logger, metrics, reporter } = deps
  const { dataset } = context
  const needsS3 = context.s3 !== undefined
  const { objects, listRequests } = await findObjects(options.source, context)
  const plan = planObjects(objects, await readIngestLog(db, dataset.name), options.force)
  // The sample of every dataset goes with the first real object of any: its fills belong to its TWAPs.
  const sample = sampleRemoval(await loggedSampleKeys(db))
  const cost = needsS3 ? estimateCost(listRequests, plan.fetch.length, plan.bytes) : estimateCost(0, 0, 0)
  logger.debug({ dataset: dataset.name, objects: objects.length, fetch: plan.fetch.length, unchanged: plan.unchanged, bytes: plan.bytes }, 'etl plan')
  // Refused before the plan is reported: a reporter told of a run starts its progress bar.
  if (options.maxBytes !== undefined && needsS3 && plan.bytes > options.maxBytes) {
    throw new EtlRefusedError(`this run would download ${plan.bytes} bytes in ${plan.fetch.length} objects, over --max-bytes ${options.maxBytes}; nothing was fetched`)
  }
  reporter?.planned(plan, cost, Boolean(options.dryRun))

  const summary: EtlSummary = {
    dataset: dataset.name, dryRun: Boolean(options.dryRun), objectsOk: 0, objectsFailed: 0, objectsSkipped: plan.unchanged,
    rowsInserted: 0, rowsDuplicate: 0, rowsRejected: 0, rowsDropped: 0, bytes: 0, cost, durationMs: 0, failures: [], planned: plan.fetch, objectsLeft: 0,
  }
  metrics?.objects.inc({ outcome: 'skipped' }, plan.unchanged)
  // An object failing because the database is unavailable says the same of the next ones:
  // the run stops taking objects, as it does when the lock's connection is lost.
  const dbLost = new AbortController()
  const lost = AbortSignal.any([lockLost, dbLost.signal])
  if (!options.dryRun && plan.fetch.length > 0) {
    const tmp = needsS3 ? await downloadDir(logger) : undefined
    try {
      const queue = [...plan.fetch]
      const next = () => (options.signal?.aborted || lost.aborted ? undefined : queue.shift())
      const workers = Array.from({ length: Math.min(options.concurrency ?? config.etl.concurrency, queue.length) }, async () => {
        for (let object = next(); object; object = next()) {
          const result = await ingestObject(deps, object, context, tmp, sample, (err) => dbLost.abort(err))
          tally(summary, result)
          metrics?.objects.inc({ outcome: result.ok ? 'ok' : 'failed' })
          metrics?.rows.inc({ outcome: 'inserted' }, result.inserted)
          metrics?.rows.inc({ outcome: 'duplicate' }, result.duplicate)
          metrics?.rows.inc({ outcome: 'rejected' }, result.rejected)
          reporter?.objectDone(result)
        }
      })
      await Promise.all(workers)
      summary.objectsLeft = queue.length
      if (queue.length && !lost.aborted) logger.warn({ objectsLeft: queue.length }, 'etl stopped between objects; the rest wait for the next run')
    } finally {
      if (tmp) {
        activeDirs.delete(tmp)
        await rm(tmp, { recursive: true, force: true })
      }
    }
    // Fresh statistics, or the planner picks poor plans for the wallets just loaded; the
    // embedded engine has no autovacuum to do it later (a million rows: 2-4 s a page before).
    if (summary.rowsInserted > 0 && !lost.aborted) for (const table of dataset.tables) await db.exec(`ANALYZE ${table}`)
  }
  // What was spent, once something was fetched from S3; otherwise the plan's estimate.
  if (needsS3 && !options.dryRun) summary.cost = estimateCost(listRequests, summary.objectsOk + summary.objectsFailed, summary.bytes)
  summary.durationMs = performance.now() - started
  reporter?.finished(summary)
  if (lost.aborted) {
    const reason = lost.reason as Error & { code?: unknown }
    const detail = typeof reason.code === 'string' && !reason.message.includes(reason.code) ? `${reason.message} (${reason.code})` : reason.message
    const what = lockLost.aborted ? 'the connection holding the ETL lock was lost' : 'the database became unavailable'
    throw new EtlDatabaseLostError(
      `${what} during the run (${db.location}: ${detail}); ${summary.objectsOk} object(s) ingested, ` +
      `${summary.objectsFailed} failed, ${summary.objectsLeft} left for the next run`, summary, { cause: reason })
  }
  return summary
}

/** Download directories this process is using now; any other of its pid is a dead namesake's. */
const activeDirs = new Set<string>()

/**
 * A fresh download directory in the system temp directory (TMPDIR), named after this
 * process. Downloads stay there rather than under TWAP_DATA_DIR because a deployment on
 * PostgreSQL may have no writable data directory at all (a read-only root with only /tmp
 * mounted). A run killed with SIGKILL cannot remove its directory, so each run first removes
 * those whose process is gone: its pid no longer runs, or is this process (a container
 * restarted with the same pid) and the directory is not one of its own.
 */
async function downloadDir(logger: Logger): Promise<string> {
  const base = tmpdir()
  await removeStaleDownloadDirs(base, logger)
  try {
    const dir = await mkdtemp(join(base, `hl-twap-${process.pid}-`))
    activeDirs.add(dir)
    return dir
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const reason = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied'
      : e.code === 'ENOENT' ? 'no such directory'
      : e.code === 'ENOTDIR' ? 'not a directory'
      : e.code === 'ENOSPC' ? 'no space left on device'
      : e.code === 'EROFS' ? 'read-only file system' : e.message
    throw new Error(`cannot create a download directory in ${base} (set TMPDIR to a writable directory): ${reason}`, { cause: err })
  }
}

/** Directories of earlier versions, named without a pid, count as stale after a day. */
const UNNAMED_STALE_MS = 24 * 3600 * 1000

async function removeStaleDownloadDirs(base: string, logger: Logger): Promise<void> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith('hl-twap-')) continue
    const path = join(base, entry.name)
    const owner = /^hl-twap-(\d+)-/.exec(entry.name)
    let stale: boolean
    if (owner) {
      const pid = Number(owner[1])
      stale = pid === process.pid ? !activeDirs.has(path) : !isRunning(pid)
    } else {
      const info = await stat(path).catch(() => undefined)
      stale = info !== undefined && Date.now() - info.mtimeMs > UNNAMED_STALE_MS
    }
    if (!stale) continue
    await rm(path, { recursive: true, force: true })
      .then(() => logger.info({ dir: path }, 'removed the download directory of a run that was killed'))
      .catch((err: Error) => logger.warn({ dir: path, error: err.message }, 'could not remove a stale download directory'))
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function tally(summary: EtlSummary, r: ObjectResult): void {
  if (r.ok) summary.objectsOk++
  else {
    summary.objectsFailed++
    summary.failures.push({ key: r.key, error: r.error ?? 'unknown error' })
  }
  summary.rowsInserted += r.inserted
  summary.rowsDuplicate += r.duplicate
  summary.rowsRejected += r.rejected
  summary.rowsDropped += r.dropped
  summary.bytes += r.bytes
}

async function findObjects(source: EtlSource, context: RunContext): Promise<{ objects: SourceObject[]; listRequests: number }> {
  const { dataset, s3Config: s3c, s3 } = context
  if (source.kind === 'local') return { objects: await listLocalFiles(source.paths, dataset.extensions), listRequests: 0 }
  try {
    if (source.kind === 'object') {
      const object = await headObject(s3!, s3c, source.key)
      if (!isIngestibleKey(object.key, object.size, dataset.extensions)) throw new EtlRefusedError(`${source.key} is not a ${dataset.fileKind} (or is empty); nothing to ingest`)
      return { objects: [object], listRequests: 0 }
    }
    const objects: SourceObject[] = []
    let listed = 0
    for await (const object of listObjects(s3!, s3c)) {
      listed++
      if (!isIngestibleKey(object.key, object.size, dataset.extensions)) continue
      if (source.since && object.lastModified < source.since) continue
      objects.push(object)
    }
    return { objects, listRequests: Math.max(1, Math.ceil(listed / 1000)) }
  } catch (err) {
    if (err instanceof EtlRefusedError) throw err
    if (source.kind === 'object') {
      const missing = (err as { name?: string }).name === 'NotFound'
      throw new Error(`cannot read s3://${s3c.bucket}/${source.key}: ${missing ? `no such object (--object-key takes the whole key, ${dataset.prefixVariable} included)` : describeS3Error(err)}`)
    }
    throw new Error(`cannot list s3://${s3c.bucket}/${s3c.prefix}: ${describeS3Error(err)}`)
  }
}

let downloads = 0

/**
 * Hands the bundled sample's keys to the first real object's transaction, one at a time
 * (two transactions deleting the same rows would wait on each other), and takes them
 * back when that transaction fails, for the next object.
 */
function sampleRemoval(keys: string[]) {
  let pending = keys
  return {
    take(key: string): string[] {
      if (isSampleKey(key)) return []
      const taken = pending
      pending = []
      return taken
    },
    giveBack(keys: string[]): void {
      pending = [...pending, ...keys]
    },
  }
}

async function ingestObject(
  deps: EtlDeps, object: PlannedObject, context: RunContext, tmp: string | undefined,
  sample: ReturnType<typeof sampleRemoval>, onUnavailable: (err: unknown) => void,
): Promise<ObjectResult> {
  const { db, reporter, metrics } = deps
  const { dataset, s3Config, s3 } = context
  const started = performance.now()
  const result: ObjectResult = { key: object.key, ok: false, bytes: 0, inserted: 0, duplicate: 0, rejected: 0, dropped: 0, rejections: [], durationMs: 0 }
  let path = object.path
  try {
    if (!path) {
      path = join(tmp!, `${++downloads}${dataset.extensions[0]}`)
      try {
        await downloadObject(s3!, s3Config, object, path, {
          onBytes: (n) => {
            result.bytes += n
            metrics?.bytes.inc(n)
            reporter?.bytes(n)
          },
        })
      } catch (err) {
        throw new Error(`download failed: ${describeS3Error(err)}`)
      }
    }
    const file = path
    const sampleKeys = sample.take(object.key)
    await db.transaction(async (tx) => {
      const sampleRows = await removeSample(tx, sampleKeys)
      if (sampleRows > 0) deps.logger.info({ rows: sampleRows, key: object.key }, 'real data arrived: removed the bundled sample data')
      const heldBefore = object.replaces ? await twapsOfObject(tx, dataset.name, object.key) : []
      await dataset.load(tx, object.key, file, object.replaces, (batch) => {
        result.inserted += batch.inserted
        result.duplicate += batch.duplicate
        result.rejected += batch.rejected.length
        result.dropped += batch.dropped
        if (result.rejections.length < MAX_REJECTIONS_SHOWN) result.rejections.push(...batch.rejected.slice(0, MAX_REJECTIONS_SHOWN - result.rejections.length))
        reporter?.rows(batch.rowsRead)
      })
      result.durationMs = Math.round(performance.now() - started)
      await recordIngest(tx, logEntry(dataset, object, result))
      await recordCoverage(tx, dataset.name, object.key)
      await reconcileObject(tx, dataset.name, object.key, heldBefore)
    }).catch((err: unknown) => {
      sample.giveBack(sampleKeys)
      throw err
    })
    result.ok = true
  } catch (err) {
    result.ok = false
    result.error = (err as Error).message
    result.inserted = result.duplicate = result.rejected = result.dropped = 0
    result.durationMs = Math.round(performance.now() - started)
    if (isDatabaseUnavailable(err)) onUnavailable(err)
    await recordIngest(db, logEntry(dataset, object, result)).catch((logErr) => deps.logger.error({ key: object.key, err: logErr }, 'could not record the failure in the ingest log'))
  } finally {
    if (path && path !== object.path) await rm(path, { force: true })
  }
  return result
}

/** The ingest-log entry of an object's outcome: its counts, or its error. */
function logEntry(dataset: Dataset, object: PlannedObject, result: ObjectResult): IngestRecord {
  return {
    dataset: dataset.name, key: object.key, etag: object.etag, lastModified: object.lastModified.toISOString(), sizeBytes: object.size,
    rowsIngested: result.inserted, rowsDuplicate: result.duplicate, rowsRejected: result.rejected,
    errorText: result.error ?? null, durationMs: result.durationMs,
  }
}
