import type { Command } from 'commander'
import { createLogger } from '#src/log.ts'
import { createMetrics } from '#src/metrics.ts'
import { openStore } from '#src/store/open.ts'
import { checkCron, commandConfig, poolSize } from './settings.ts'

/** `hl-twap serve`. */
export function serveCommand(program: Command): Command {
  return program.command('serve')
    .description('serve the REST API, and the incremental ETL on a cron schedule when --schedule or ETL_SCHEDULE gives one')
    .option('--schedule <cron>', 'run the incremental ETL on this cron schedule, UTC, 5 fields or 6 with seconds (e.g. "30 0 * * *"); default ETL_SCHEDULE when set')
    .action(async (opts: { schedule?: string }) => {
      const cfg = commandConfig()
      if (opts.schedule !== undefined) checkCron(opts.schedule, '--schedule')
      else if (cfg.etl.scheduleSet) checkCron(cfg.etl.schedule, 'ETL_SCHEDULE')
      const schedule = opts.schedule ?? (cfg.etl.scheduleSet ? cfg.etl.schedule : undefined)
      const logger = createLogger(cfg.logLevel)
      const etlConcurrency = schedule === undefined ? undefined : cfg.etl.concurrency
      const { db, applied } = await openStore(cfg, { poolSize: poolSize({ api: true, exportSlots: cfg.api.exportMaxConcurrent, etlConcurrency }) })
      if (applied.length) logger.info({ applied }, 'migrations applied')
      const { serve } = await import('#src/serve.ts')
      await serve({ db, config: cfg, logger, metrics: createMetrics(), schedule })
    })
}
