import { Cron } from 'croner'
import type { Logger } from 'pino'
import { EtlBusyError } from './lock.ts'
import { logReporter } from './progress.ts'
import { runEtl, type EtlDeps, type EtlSummary } from './run.ts'

export interface EtlSchedule {
  /** When the next run starts, or null once stopped. */
  nextRun(): Date | null
  /** A tick now, as the clock gives them: skipped while a run is going; resolves when its run has ended. */
  tick(): Promise<void>
  /** Resolves when the run in progress, if any, has ended. */
  idle(): Promise<void>
  /** No more ticks; a run in progress stops after the objects in flight. */
  stop(): void
}

/**
 * Runs the incremental ETL of each dataset of `ETL_DATASETS`, one after the other, on a
 * cron schedule (5 fields, or 6 with seconds; UTC) inside the serving process. A tick that
 * comes while the previous run is still going is skipped with a warning, a run another
 * process holds the database for is skipped the same way (the ETL lock), and each run's
 * summary is logged. The overlap check is here rather than croner's `protect`, which
 * guards only the ticks of its own clock, so that `tick()` is guarded the same way. The
 * job is unnamed, so a process (a test) may hold several schedules: croner refuses a
 * second job of one name.
 */
export function scheduleEtl(cron: string, deps: Omit<EtlDeps, 'reporter'>, logger: Logger, onRun?: (summary: EtlSummary) => void): EtlSchedule {
  let running: Promise<void> | undefined
  let runningSince: Date | undefined
  const stopping = new AbortController()
  const runDatasets = async () => {
    // Each dataset runs on its own: one whose bucket cannot be listed leaves the others to run.
    for (const dataset of deps.config.etl.datasets) {
      if (stopping.signal.aborted) break
      try {
        const summary = await runEtl({ ...deps, reporter: logReporter(logger) }, { source: { kind: 'incremental' }, dataset, signal: stopping.signal })
        onRun?.(summary)
      } catch (err) {
        if (err instanceof EtlBusyError) logger.warn({ dataset, error: err.message }, 'scheduled etl run skipped: another run holds the database')
        else logger.error({ dataset, error: (err as Error).message }, 'scheduled etl run failed')
      }
    }
  }
  const tick = (): Promise<void> => {
    if (stopping.signal.aborted) return Promise.resolve()
    if (running) {
      logger.warn({ cron, runningSince: runningSince?.toISOString() }, 'scheduled etl tick skipped: the previous run is still going')
      return Promise.resolve()
    }
    runningSince = new Date()
    running = runDatasets().finally(() => {
      running = undefined
      runningSince = undefined
    })
    return running
  }
  const job = new Cron(cron, { timezone: 'UTC' }, tick)
  return {
    nextRun: () => job.nextRun(),
    tick,
    idle: () => running ?? Promise.resolve(),
    stop: () => {
      job.stop()
      stopping.abort()
    },
  }
}
