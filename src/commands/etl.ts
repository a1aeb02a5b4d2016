import { existsSync } from 'node:fs'
import { constants } from 'node:os'
import { resolve } from 'node:path'
import { Option, type Command } from 'commander'
import type { Logger } from 'pino'
import { DATASET_NAMES, type Config, type DatasetName } from '#src/config.ts'
import type { EtlSource } from '#src/etl/run.ts'
import { createLogger } from '#src/log.ts'
import { createMetrics } from '#src/metrics.ts'
import { BusyError } from '#src/store/db.ts'
import { openStore } from '#src/store/open.ts'
import { EXIT, ExitError } from './exit.ts'
import { datasetOption, instant, positiveInt } from './options.ts'
import { commandConfig, poolSize } from './settings.ts'
import { stopOnSignal } from './signals.ts'

const NO_CREDENTIALS = 'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is attached; see "AWS credentials" in the README)'

/** The options of `hl-twap etl` as commander hands them over. */
export interface EtlFlags {
  dataset?: DatasetName | 'all'
  incremental?: boolean
  since?: Date
  objectKey?: string
  localFile?: string[]
  dryRun?: boolean
  maxBytes?: number
  concurrency?: number
  force?: boolean
}

/** What an `hl-twap etl` invocation asks for, its flags checked against each other and the configuration. */
export interface EtlRequest {
  source: EtlSource
  /** In the order they run. */
  datasets: DatasetName[]
  dryRun?: boolean
  force?: boolean
  maxBytes?: number
  concurrency?: number
}

/** `hl-twap etl`. */
export function etlCommand(program: Command): Command {
  return program.command('etl')
    .description('ingest objects of a dataset (TWAP statuses: parquet; TWAP fills: LZ4 node fills) from S3, incremental by default, or local files')
    .addOption(datasetOption('statuses, fills or all (default ETL_DATASETS, statuses)'))
    .option('--incremental', 'list the bucket prefix and ingest every object not yet ingested (default)')
    .addOption(new Option('--since <iso8601>', 'only objects whose LastModified is at or after this instant').argParser(instant))
    .option('--object-key <key>', 'exactly one object')
    .option('--local-file <path>', 'a local file of the dataset (parquet, or .lz4 for fills), or a directory of them (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--dry-run', 'plan only: list what would be fetched, its bytes and estimated cost; fetch nothing')
    .addOption(new Option('--max-bytes <n>', 'refuse to start a run whose downloads exceed n bytes').argParser(positiveInt('--max-bytes')))
    .addOption(new Option('--concurrency <n>', 'objects in flight at once (default ETL_CONCURRENCY, 4)').argParser(positiveInt('--concurrency')))
    .option('--force', 're-ingest objects already ingested')
    .action(async (flags: EtlFlags) => {
      const { request, cfg } = etlRequest(flags)
      await checkCredentials(request, cfg)
      await runEtlCommand(request, cfg)
    })
}

/**
 * Every rule on how the flags combine, in one place: throws a usage `ExitError` naming the
 * flags, checked before the configuration is read, and the one rule that needs it after.
 */
export function etlRequest(flags: EtlFlags, readConfig: () => Config = commandConfig): { request: EtlRequest; cfg: Config } {
  const chosen = [flags.objectKey && '--object-key', flags.localFile && '--local-file', flags.incremental && '--incremental'].filter(Boolean)
  if (chosen.length > 1) throw new ExitError(`${chosen.join(' and ')} cannot be combined`, EXIT.usage)
  if (flags.since && (flags.objectKey || flags.localFile)) throw new ExitError('--since applies to the incremental listing only', EXIT.usage)
  for (const path of flags.localFile ?? []) {
    if (!existsSync(path)) throw new ExitError(`--local-file ${path}: no such file or directory`, EXIT.usage)
  }
  const source: EtlSource = flags.localFile ? { kind: 'local', paths: flags.localFile }
    : flags.objectKey ? { kind: 'object', key: flags.objectKey }
    : { kind: 'incremental', since: flags.since }
  const cfg = readConfig()
  const datasets: DatasetName[] = flags.dataset === 'all' ? [...DATASET_NAMES] : flags.dataset ? [flags.dataset] : cfg.etl.datasets
  if (datasets.length > 1 && source.kind !== 'incremental') {
    throw new ExitError(`${source.kind === 'object' ? '--object-key' : '--local-file'} names objects of one dataset: add --dataset statuses or --dataset fills`, EXIT.usage)
  }
  return { request: { source, datasets, dryRun: flags.dryRun, force: flags.force, maxBytes: flags.maxBytes, concurrency: flags.concurrency }, cfg }
}

/** A run that reads S3 fails at once, naming what it would read, when no credentials are configured. */
async function checkCredentials({ source, datasets }: EtlRequest, cfg: Config): Promise<void> {
  if (source.kind === 'local') return
  const { awsCredentialsFound } = await import('#src/credentials.ts')
  if (await awsCredentialsFound()) return
  const first = datasets[0] === 'fills' ? cfg.fills : cfg.s3
  const target = source.kind === 'object' ? `read s3://${first.bucket}/${source.key}` : `list s3://${first.bucket}/${first.prefix}`
  throw new ExitError(`cannot ${target}: ${NO_CREDENTIALS}`, EXIT.failed)
}

/** Runs the request's datasets in turn on this process's store; sets the exit code. */
async function runEtlCommand(request: EtlRequest, cfg: Config): Promise<void> {
  const { source, datasets } = request
  const logger = createLogger(cfg.logLevel)
  const opened = await openStore(cfg, { applicationName: 'hl-twap etl', poolSize: poolSize({ api: false, etlConcurrency: request.concurrency ?? cfg.etl.concurrency }) })
    .catch(async (err: unknown) => {
      if (!(err instanceof BusyError) || cfg.databaseUrl) throw err
      // A server holding the embedded store runs the ingest itself when asked.
      if (await etlOnServer(request, cfg, logger)) return undefined
      throw new ExitError(`${err.message}. To ingest into it, stop that server, run this command, then start the server again; ` +
        'a running `npm start` with AWS credentials syncs the bucket itself on ETL_SCHEDULE', EXIT.busy, { cause: err })
    })
  if (!opened) return
  const { db } = opened
  try {
    const { runEtl } = await import('#src/etl/run.ts')
    const { logReporter, terminalReporter } = await import('#src/etl/progress.ts')
    const reporter = process.stderr.isTTY ? terminalReporter() : logReporter(logger)
    const stop = stopOnSignal(logger)
    try {
      const metrics = createMetrics()
      let failed = false
      for (const dataset of datasets) {
        if (stop.signal.aborted) break
        const summary = await runEtl({ db, config: cfg, logger, metrics, reporter }, {
          source, dataset, dryRun: request.dryRun, force: request.force, maxBytes: request.maxBytes, concurrency: request.concurrency, signal: stop.signal,
        })
        if (source.kind === 'local' && summary.objectsOk + summary.objectsFailed + summary.objectsSkipped === 0) {
          logger.warn({ paths: source.paths, dataset }, `no ${dataset === 'fills' ? '.lz4 or parquet' : 'parquet'} files in ${source.paths.join(', ')}: nothing was ingested`)
        }
        failed ||= summary.objectsFailed > 0
      }
      process.exitCode = stop.exitCode() ?? (failed ? EXIT.failed : EXIT.ok)
    } finally {
      stop.dispose()
    }
  } finally {
    await db.close()
  }
}

/**
 * Runs the request in the server that holds the embedded store, with the same progress,
 * summary and exit code; false when no server listens there. `--local-file` paths are
 * made absolute here, since the server resolves them from its own directory.
 */
async function etlOnServer(request: EtlRequest, cfg: Config, logger: Logger): Promise<boolean> {
  const { runOnServer } = await import('#src/etl/remote.ts')
  const { logReporter, terminalReporter } = await import('#src/etl/progress.ts')
  const { source: asked, ...rest } = request
  const source = asked.kind === 'local' ? { kind: 'local' as const, paths: asked.paths.map((p) => resolve(p)) }
    : asked.kind === 'incremental' ? { kind: 'incremental' as const, since: asked.since?.toISOString() }
    : asked
  const answer = await runOnServer(cfg.dataDir, { ...rest, source }, process.stderr.isTTY ? terminalReporter() : logReporter(logger), logger)
  if (!answer) return false
  const code = answer.signal ? 128 + constants.signals[answer.signal] : EXIT[answer.outcome === 'usage' ? 'usage' : answer.outcome]
  if (answer.message && !answer.signal) throw new ExitError(answer.message, code)
  process.exitCode = code
  return true
}
