import type { S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import type { Config, DatasetName } from '#src/config.ts'
import type { RejectedRow } from '#src/decode/event.ts'
import type { Metrics } from '#src/metrics.ts'
import { LocalSource } from '#src/source/local.ts'
import { S3Source } from '#src/source/s3.ts'
import type { SourceObject } from '#src/source/object.ts'
import { NotIngestibleError, type CostEstimate, type OpenedObject, type Source } from '#src/source/source.ts'
import { recordCoverage } from '#src/store/coverage.ts'
import type { Db } from '#src/store/db.ts'
import { reconcileObject, twapsOfObject } from '#src/store/reconcile.ts'
import { isDatabaseUnavailable } from '#src/store/unavailable.ts'
import { isSampleKey, loggedSampleKeys, readIngestLog, recordIngest, removeSample, type IngestRecord } from '#src/store/ingest-log.ts'
import { DATASETS, type Dataset } from './datasets.ts'
import { EtlDatabaseLostError, EtlRefusedError } from './errors.ts'
import { EtlBusyError, withEtlLock } from './lock.ts'
import { planObjects, type Plan, type PlannedObject } from './plan.ts'
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
    metrics?.runs.inc({ result: err instanceof EtlBusyError ? 'busy' : 'failed' })
    throw err
  }
}

async function run(deps: EtlDeps, options: EtlOptions, lockLost: AbortSignal): Promise<EtlSummary> {
  const started = performance.now()
  const dataset = DATASETS[options.dataset ?? 'statuses']
  const source = sourceOf(options.source, dataset, deps)
  try {
    return await runWith(deps, options, dataset, source, started, lockLost)
  } finally {
    await source.close()
  }
}

/** The source a run's choice of objects names: files given on the command line, or the dataset's bucket. */
function sourceOf(choice: EtlSource, dataset: Dataset, deps: EtlDeps): Source {
  if (choice.kind === 'local') return new LocalSource(choice.paths)
  const selection = choice.kind === 'object' ? { key: choice.key } : { since: choice.since }
  return new S3Source({ config: dataset.s3(deps.config), selection, client: deps.s3, prefixVariable: dataset.prefixVariable, logger: deps.logger })
}

async function runWith(deps: EtlDeps, options: EtlOptions, dataset: Dataset, source: Source, started: number, lockLost: AbortSignal): Promise<EtlSummary> {
  const { db, config, logger, metrics, reporter } = deps
  const objects = await findObjects(source, dataset)
  const plan = planObjects(objects, await readIngestLog(db, dataset.name), options.force)
  // The sample of every dataset goes with the first real object of any: its fills belong to its TWAPs.
  const sample = sampleRemoval(await loggedSampleKeys(db))
  const cost = source.cost(plan.fetch.length, plan.bytes)
  logger.debug({ dataset: dataset.name, objects: objects.length, fetch: plan.fetch.length, unchanged: plan.unchanged, bytes: plan.bytes }, 'etl plan')
  // Refused before the plan is reported: a reporter told of a run starts its progress bar.
  if (options.maxBytes !== undefined && cost.bytes > options.maxBytes) {
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
    const queue = [...plan.fetch]
    const next = () => (options.signal?.aborted || lost.aborted ? undefined : queue.shift())
    const workers = Array.from({ length: Math.min(options.concurrency ?? config.etl.concurrency, queue.length) }, async () => {
      for (let object = next(); object; object = next()) {
        const result = await ingestObject(deps, object, dataset, source, sample, (err) => dbLost.abort(err))
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
    // Fresh statistics, or the planner picks poor plans for the wallets just loaded, and a
    // fresh visibility map, without which an index-only scan reads the table too and the
    // planner prefers a sequential scan (a wallet's summary reads its events that way). The
    // embedded engine has no autovacuum to do either later.
    if (summary.rowsInserted > 0 && !lost.aborted) for (const table of dataset.tables) await db.exec(`VACUUM (ANALYZE) ${table}`)
  }
  // What was spent, once the objects were read; in a dry run, the plan's estimate.
  if (!options.dryRun) summary.cost = source.cost(summary.objectsOk + summary.objectsFailed, summary.bytes)
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

/** The objects of `dataset` the source offers; one asked for by key that is not of the dataset refuses the run. */
async function findObjects(source: Source, dataset: Dataset): Promise<SourceObject[]> {
  try {
    return await source.list(dataset.extensions)
  } catch (err) {
    if (err instanceof NotIngestibleError) throw new EtlRefusedError(`${err.key} is not a ${dataset.fileKind} (or is empty); nothing to ingest`, { cause: err })
    throw err
  }
}

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
  deps: EtlDeps, object: PlannedObject, dataset: Dataset, source: Source,
  sample: ReturnType<typeof sampleRemoval>, onUnavailable: (err: unknown) => void,
): Promise<ObjectResult> {
  const { db, reporter, metrics } = deps
  const started = performance.now()
  const result: ObjectResult = { key: object.key, ok: false, bytes: 0, inserted: 0, duplicate: 0, rejected: 0, dropped: 0, rejections: [], durationMs: 0 }
  let opened: OpenedObject | undefined
  try {
    opened = await source.open(object, (n) => {
      result.bytes += n
      metrics?.bytes.inc(n)
      reporter?.bytes(n)
    })
    const file = opened.path
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
    await opened?.release()
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
