import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'
import type { Logger } from 'pino'
import type { Config } from '#src/config.ts'
import { createLogger } from '#src/log.ts'
import { createMetrics, type Metrics } from '#src/metrics.ts'
import type { Db } from '#src/store/db.ts'
import { SAMPLE_FILE_NAME, SAMPLE_FILLS_FILE_NAME } from '#src/store/ingest-log.ts'
import { openStore } from '#src/store/open.ts'
import { checkCron, commandConfig, poolSize } from './settings.ts'

// The bundled samples, at the package's root (from src/commands/ and dist/commands/ alike).
const SAMPLE_FILE = fileURLToPath(new URL(`../../${SAMPLE_FILE_NAME}`, import.meta.url))
const SAMPLE_FILLS_FILE = fileURLToPath(new URL(`../../${SAMPLE_FILLS_FILE_NAME}`, import.meta.url))

/** `hl-twap start`, what `npm start` runs. */
export function startCommand(program: Command): Command {
  return program.command('start')
    .description('what `npm start` runs: migrate, load the bundled sample into an empty embedded store, serve, and sync S3 on ETL_SCHEDULE when AWS credentials are found')
    .action(async () => {
      const cfg = commandConfig()
      checkCron(cfg.etl.schedule, 'ETL_SCHEDULE')
      const logger = createLogger(cfg.logLevel)
      const { db, applied } = await openStore(cfg, { poolSize: poolSize({ api: true, exportSlots: cfg.api.exportMaxConcurrent, etlConcurrency: cfg.etl.concurrency }) })
      if (applied.length) logger.info({ applied, database: db.location }, 'migrations applied')
      const metrics = createMetrics()
      await loadSample(db, cfg, logger, metrics)
      const { serve } = await import('#src/serve.ts')
      const { awsCredentialsFound } = await import('#src/credentials.ts')
      const schedule = (await awsCredentialsFound()) ? cfg.etl.schedule : undefined
      if (!schedule) logger.warn('S3 sync is off: no AWS credentials configured (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, or attach an instance role, to sync the bucket on ETL_SCHEDULE)')
      await serve({ db, config: cfg, logger, metrics, schedule })
    })
}

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
  const { runEtl } = await import('#src/etl/run.ts')
  const summary = await runEtl({ db, config: cfg, logger, metrics }, { source: { kind: 'local', paths: [SAMPLE_FILE] } })
  const fills = await runEtl({ db, config: cfg, logger, metrics }, { source: { kind: 'local', paths: [SAMPLE_FILLS_FILE] }, dataset: 'fills' })
  logger.info({ sample: 'loaded', rows: summary.rowsInserted, fills: fills.rowsInserted, file: SAMPLE_FILE_NAME, fillsFile: SAMPLE_FILLS_FILE_NAME },
    'empty embedded store: loaded the bundled sample data; the first real ingest removes it')
}
