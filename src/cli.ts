import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Command, InvalidArgumentError, Option } from 'commander'
import { parseInstant } from './api/instant.ts'
import { ConfigError, DATASET_NAMES, loadConfig, type Config, type DatasetName } from './config.ts'
import { EtlBusyError } from './etl/lock.ts'
import type { EtlSource } from './etl/run.ts'
import { cronError } from './etl/cron.ts'
import { createLogger } from './log.ts'
import { packageInfo } from './package.ts'
import { createMetrics } from './metrics.ts'
import type { Logger } from 'pino'
import type { Metrics } from './metrics.ts'
import { BusyError, type Db } from './store/db.ts'
import { SAMPLE_FILE_NAME, SAMPLE_FILLS_FILE_NAME } from './store/ingest-log.ts'
import { openStore } from './store/open.ts'
import { isDatabaseUnavailable } from './store/unavailable.ts'

// Commands import what only they need when they run (Fastify, the AWS SDK, the parquet
// writer), so `--help` and `sample` start at once.
const etl = () => import('./etl/run.ts')
const progress = () => import('./etl/progress.ts')
const server = () => import('./serve.ts')
const credentials = () => import('./credentials.ts')

// Under Node 20, which package.json supports, the AWS SDK writes a notice about its plans
// for 2027 over seven lines of stderr on every run: that breaks the one-line errors and
// the JSON log lines scripts read there. Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const

const SAMPLE_FILE = fileURLToPath(new URL(`../${SAMPLE_FILE_NAME}`, import.meta.url))
const SAMPLE_FILLS_FILE = fileURLToPath(new URL(`../${SAMPLE_FILLS_FILE_NAME}`, import.meta.url))

const NO_CREDENTIALS = 'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is attached; see "AWS credentials" in the README)'

class ExitError extends Error {
  readonly code: number
  constructor(message: string, code: number) {
    super(message)
    this.code = code
  }
}

function config(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env')
  return loadConfig()
}

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive whole number`)
  return n
}

/** `--since`: read as the API reads `start` and `end` (a bare date is 00:00 UTC, no zone is UTC). */
const instant = (value: string) => {
  const micros = parseInstant(value)
  if (micros === null) throw new InvalidArgumentError('expected an ISO-8601 date or time, e.g. 2025-11-01 or 2025-11-01T12:00:00Z')
  return new Date(Number(micros / 1000n))
}

/**
 * PostgreSQL connections for a command: ten for the API, and for an ETL one per object in
 * flight, one for the run's lock and a spare.
 */
function poolSize(uses: { api: boolean; etlConcurrency?: number }): number {
  const etl = uses.etlConcurrency === undefined ? 0 : uses.etlConcurrency + 2
  return Math.max(10, (uses.api ? 10 : 0) + etl)
}

function checkCron(expression: string, origin: string): void {
  const error = cronError(expression)
  if (error) throw new ExitError(`${origin} ${JSON.stringify(expression)} is not a valid cron expression: ${error}`, EXIT.usage)
}

const program = new Command('hl-twap')
  .description('Hyperliquid TWAP status events from the requester-pays S3 bucket, kept in PostgreSQL and served over a REST API.')
  .version(packageInfo.version, '-V, --version')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride()

program.command('db').description('database maintenance').command('migrate')
  .description('apply the pending schema migrations (start-up does this too)')
  .action(async () => {
    const cfg = config()
    const logger = createLogger(cfg.logLevel)
    const { db, applied } = await openStore(cfg)
    await db.close()
    logger.info({ applied, database: db.location }, applied.length ? `applied ${applied.length} migration(s)` : 'schema up to date')
  })

/** `--dataset`: one dataset, or `all` of them in order; unset → `ETL_DATASETS`. */
const datasetChoice = new Option('--dataset <name>', 'statuses, fills or all (default ETL_DATASETS, statuses)').choices([...DATASET_NAMES, 'all'])

program.command('check')
  .description('print coverage gaps, failed objects and every TWAP whose fills do not add up to what it executed; exit 1 when there is any')
  .addOption(new Option('--since <iso8601>', 'check the hours from this instant to now, and the TWAPs ending since').argParser(instant))
  .addOption(new Option('--dataset <name>', 'statuses, fills or all (default all)').choices([...DATASET_NAMES, 'all']))
  .action(async (opts: { since?: Date; dataset?: DatasetName | 'all' }) => {
    const cfg = config()
    const { db } = await openStore(cfg)
    try {
      const { runCheck } = await import('./check.ts')
      const report = await runCheck(db, { since: opts.since, datasets: !opts.dataset || opts.dataset === 'all' ? DATASET_NAMES : [opts.dataset] })
      process.stdout.write(report.lines.join('\n') + '\n')
      if (report.problems > 0) process.exitCode = EXIT.failed
    } finally {
      await db.close()
    }
  })

program.command('etl')
  .description('ingest objects of a dataset (TWAP statuses: parquet; TWAP fills: LZ4 node fills) from S3, incremental by default, or local files')
  .addOption(datasetChoice)
  .option('--incremental', 'list the bucket prefix and ingest every object not yet ingested (default)')
  .addOption(new Option('--since <iso8601>', 'only objects whose LastModified is at or after this instant').argParser(instant))
  .option('--object-key <key>', 'exactly one object')
  .option('--local-file <path>', 'a local file of the dataset (parquet, or .lz4 for fills), or a directory of them (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
  .option('--dry-run', 'plan only: list what would be fetched, its bytes and estimated cost; fetch nothing')
  .addOption(new Option('--max-bytes <n>', 'refuse to start a run whose downloads exceed n bytes').argParser(positiveInt('--max-bytes')))
  .addOption(new Option('--concurrency <n>', 'objects in flight at once (default ETL_CONCURRENCY, 4)').argParser(positiveInt('--concurrency')))
  .option('--force', 're-ingest objects already ingested')
  .action(async (opts: { dataset?: DatasetName | 'all'; since?: Date; objectKey?: string; localFile?: string[]; dryRun?: boolean; maxBytes?: number; concurrency?: number; force?: boolean; incremental?: boolean }) => {
    const chosen = [opts.objectKey && '--object-key', opts.localFile && '--local-file', opts.incremental && '--incremental'].filter(Boolean)
    if (chosen.length > 1) throw new ExitError(`${chosen.join(' and ')} cannot be combined`, EXIT.usage)
    if (opts.since && (opts.objectKey || opts.localFile)) throw new ExitError('--since applies to the incremental listing only', EXIT.usage)
    const source: EtlSource = opts.localFile ? { kind: 'local', paths: opts.localFile }
      : opts.objectKey ? { kind: 'object', key: opts.objectKey }
      : { kind: 'incremental', since: opts.since }
    for (const path of opts.localFile ?? []) {
      if (!existsSync(path)) throw new ExitError(`--local-file ${path}: no such file or directory`, EXIT.usage)
    }
    const cfg = config()
    const datasets: DatasetName[] = opts.dataset === 'all' ? [...DATASET_NAMES] : opts.dataset ? [opts.dataset] : cfg.etl.datasets
    if (datasets.length > 1 && (opts.objectKey || opts.localFile)) throw new ExitError(`${opts.objectKey ? '--object-key' : '--local-file'} names objects of one dataset: add --dataset statuses or --dataset fills`, EXIT.usage)
    if (source.kind !== 'local' && !(await (await credentials()).awsCredentialsFound())) {
      const first = datasets[0] === 'fills' ? cfg.fills : cfg.s3
      const target = source.kind === 'object' ? `read s3://${first.bucket}/${source.key}` : `list s3://${first.bucket}/${first.prefix}`
      throw new ExitError(`cannot ${target}: ${NO_CREDENTIALS}`, EXIT.failed)
    }
    const logger = createLogger(cfg.logLevel)
    const { db } = await openStore(cfg, { applicationName: 'hl-twap etl', poolSize: poolSize({ api: false, etlConcurrency: opts.concurrency ?? cfg.etl.concurrency }) })
      .catch((err: unknown) => {
        if (!(err instanceof BusyError) || cfg.databaseUrl) throw err
        throw new ExitError(`${err.message}. To ingest into it, stop that server, run this command, then start the server again; ` +
          'a running `npm start` with AWS credentials syncs the bucket itself on ETL_SCHEDULE', EXIT.busy)
      })
    try {
      const { runEtl } = await etl()
      const { logReporter, terminalReporter } = await progress()
      const reporter = process.stderr.isTTY ? terminalReporter() : logReporter(logger)
      const stop = stopOnSignal(logger)
      try {
        const metrics = createMetrics()
        let failed = false
        for (const dataset of datasets) {
          if (stop.signal.aborted) break
          const summary = await runEtl({ db, config: cfg, logger, metrics, reporter }, {
            source, dataset, dryRun: opts.dryRun, force: opts.force, maxBytes: opts.maxBytes, concurrency: opts.concurrency, signal: stop.signal,
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
  })

program.command('serve')
  .description('serve the REST API, and the incremental ETL on a cron schedule when --schedule or ETL_SCHEDULE gives one')
  .option('--schedule <cron>', 'run the incremental ETL on this cron schedule, UTC, 5 fields or 6 with seconds (e.g. "30 0 * * *"); default ETL_SCHEDULE when set')
  .action(async (opts: { schedule?: string }) => {
    const cfg = config()
    if (opts.schedule !== undefined) checkCron(opts.schedule, '--schedule')
    else if (cfg.etl.scheduleSet) checkCron(cfg.etl.schedule, 'ETL_SCHEDULE')
    const schedule = opts.schedule ?? (cfg.etl.scheduleSet ? cfg.etl.schedule : undefined)
    const logger = createLogger(cfg.logLevel)
    const etlConcurrency = schedule === undefined ? undefined : cfg.etl.concurrency
    const { db, applied } = await openStore(cfg, { poolSize: poolSize({ api: true, etlConcurrency }) })
    if (applied.length) logger.info({ applied }, 'migrations applied')
    const { serve } = await server()
    await serve({ db, config: cfg, logger, metrics: createMetrics(), schedule })
  })

program.command('start')
  .description('what `npm start` runs: migrate, load the bundled sample into an empty embedded store, serve, and sync S3 on ETL_SCHEDULE when AWS credentials are found')
  .action(async () => {
    const cfg = config()
    checkCron(cfg.etl.schedule, 'ETL_SCHEDULE')
    const logger = createLogger(cfg.logLevel)
    const { db, applied } = await openStore(cfg, { poolSize: poolSize({ api: true, etlConcurrency: cfg.etl.concurrency }) })
    if (applied.length) logger.info({ applied, database: db.location }, 'migrations applied')
    const metrics = createMetrics()
    await loadSample(db, cfg, logger, metrics)
    const { serve } = await server()
    const schedule = (await (await credentials()).awsCredentialsFound()) ? cfg.etl.schedule : undefined
    if (!schedule) logger.warn('S3 sync is off: no AWS credentials configured (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or attach an instance role, to sync the bucket on ETL_SCHEDULE)')
    await serve({ db, config: cfg, logger, metrics, schedule })
  })

/**
 * The bundled sample, for a first look: loaded only into the embedded store, only when it
 * is empty, and removed by the first real ingest (see `removeSample`). A PostgreSQL store
 * is a real one, so it never gets fake events whose TWAP ids could collide with real ones.
 * Says which either way.
 */
async function loadSample(db: Db, cfg: Config, logger: Logger, metrics: Metrics): Promise<void> {
  if (cfg.databaseUrl) {
    logger.info({ sample: 'not loaded' }, 'bundled sample not loaded: DATABASE_URL is set, and the sample only goes into an empty embedded store')
    return
  }
  const { rows } = await db.query<{ empty: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM etl_s3_ingest_log) AND NOT EXISTS (SELECT 1 FROM twap_status) AS empty')
  if (!rows[0]?.empty) {
    logger.info({ sample: 'not loaded' }, 'bundled sample not loaded: the store has data')
    return
  }
  const { runEtl } = await etl()
  const summary = await runEtl({ db, config: cfg, logger, metrics }, { source: { kind: 'local', paths: [SAMPLE_FILE] } })
  const fills = await runEtl({ db, config: cfg, logger, metrics }, { source: { kind: 'local', paths: [SAMPLE_FILLS_FILE] }, dataset: 'fills' })
  logger.info({ sample: 'loaded', rows: summary.rowsInserted, fills: fills.rowsInserted, file: SAMPLE_FILE_NAME, fillsFile: SAMPLE_FILLS_FILE_NAME },
    'empty embedded store: loaded the bundled sample data; the first real ingest removes it')
}

program.command('sample')
  .description('write the small sample files (the ones bundled under samples/): TWAP statuses as parquet, their fills as LZ4 node fills')
  .option('--out <path>', 'where to write the statuses', 'twap-sample.parquet')
  .option('--fills-out <path>', 'where to write the fills', 'node-fills-sample.lz4')
  .action(async (opts: { out: string; fillsOut: string }) => {
    const { sampleFillsLz4, sampleParquet } = await import('./sample.ts')
    await writeFile(opts.out, new Uint8Array(sampleParquet()))
    await writeFile(opts.fillsOut, sampleFillsLz4())
    process.stdout.write(`wrote ${opts.out} and ${opts.fillsOut}\n`)
  })

/**
 * The first SIGINT or SIGTERM stops an ETL run between objects (those in flight commit,
 * so no work is lost) and the command then exits 128 + the signal's number; a second one
 * exits at once, which is safe too: an object's transaction that does not commit leaves
 * nothing behind.
 */
function stopOnSignal(logger: { warn(msg: string): void }) {
  const controller = new AbortController()
  let received: 'SIGINT' | 'SIGTERM' | undefined
  const exitCode = (signal: 'SIGINT' | 'SIGTERM') => 128 + constants.signals[signal]
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    if (received) process.exit(exitCode(signal))
    received = signal
    logger.warn(`${signal}: stopping after the objects in flight; send it again to stop at once`)
    controller.abort()
  }
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => onSignal(signal)] as const)
  for (const [signal, handler] of handlers) process.on(signal, handler)
  return {
    signal: controller.signal,
    exitCode: () => (received ? exitCode(received) : undefined),
    dispose: () => { for (const [signal, handler] of handlers) process.off(signal, handler) },
  }
}

/** Turns every expected failure into one line on stderr and its exit code; no stack traces. */
function exitCodeFor(err: unknown): { code: number; message?: string } {
  const e = err as Error & { code?: unknown; exitCode?: number }
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage }
  if (err instanceof ExitError) return { code: err.code, message: err.message }
  if (err instanceof EtlBusyError || err instanceof BusyError) return { code: EXIT.busy, message: err.message }
  if (err instanceof ConfigError || e.name === 'EtlRefusedError') return { code: EXIT.usage, message: e.message }
  // A run that lost its database says so itself; any other command's query says it here.
  if (e.name !== 'EtlDatabaseLostError' && isDatabaseUnavailable(err)) return { code: EXIT.failed, message: `the database is unavailable: ${e.message}` }
  return { code: EXIT.failed, message: e.message || String(err) }
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  const { code, message } = exitCodeFor(err)
  if (message) process.stderr.write(`hl-twap: ${message}\n`)
  if (process.env.LOG_LEVEL === 'debug' && err instanceof Error && err.stack) process.stderr.write(err.stack + '\n')
  process.exit(code)
}
