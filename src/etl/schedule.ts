import { Cron } from 'croner'
import type { Logger } from 'pino'
import { logReporter } from './progress.ts'
import { runEtl, type EtlDeps, type EtlSummary } from './run.ts'

export interface EtlSchedule {
  /** When the next run starts, or null once stopped. */
  nextRun(): Date | null
  /** Resolves when the run in progress, if any, has ended. */
  idle(): Promise<void>
  stop(): void
}

/**
 * Runs the incremental ETL on a cron schedule (5 fields, or 6 with seconds; UTC) inside the
 * serving process. A tick that comes while the previous run is still going is skipped
 * (and a run elsewhere is refused by the ETL lock), and each run's summary is logged.
 */
export function scheduleEtl(cron: string, deps: Omit<EtlDeps, 'reporter'>, logger: Logger, onRun?: (summary: EtlSummary) => void): EtlSchedule {
  let running: Promise<void> = Promise.resolve()
  const job = new Cron(cron, { timezone: 'UTC', protect: true, name: 'etl' }, async () => {
    const run = (async () => {
      try {
        const summary = await runEtl({ ...deps, reporter: logReporter(logger) }, { source: { kind: 'incremental' } })
        onRun?.(summary)
      } catch (err) {
        logger.error({ error: (err as Error).message }, 'scheduled etl run failed')
      }
    })()
    running = run
    await run
  })
  return {
    nextRun: () => job.nextRun(),
    idle: () => running,
    stop: () => job.stop(),
  }
}
