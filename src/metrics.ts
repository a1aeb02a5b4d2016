import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client'

/**
 * The process's Prometheus registry and the ETL's metrics in it. The API serves this
 * registry at /metrics, so a scheduled ETL inside `serve` shows up there as it runs.
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry })
  const labelled = <T extends string>(name: string, help: string, labelNames: readonly T[]) =>
    new Counter({ name, help, labelNames, registers: [registry] })
  return {
    registry,
    objects: labelled('hltwap_etl_objects_total', 'Source objects handled by the ETL, by outcome (ok, failed, skipped).', ['outcome'] as const),
    rows: labelled('hltwap_etl_rows_total', 'Source rows handled by the ETL, by outcome (inserted, duplicate, rejected).', ['outcome'] as const),
    bytes: new Counter({ name: 'hltwap_etl_bytes_downloaded_total', help: 'Bytes downloaded from S3 by the ETL.', registers: [registry] }),
    runs: labelled('hltwap_etl_runs_total', 'ETL runs, by result (success, failed, stopped, busy).', ['result'] as const),
    lastRunSeconds: new Gauge({ name: 'hltwap_etl_last_run_duration_seconds', help: 'Duration of the last ETL run.', registers: [registry] }),
    lastSuccess: new Gauge({ name: 'hltwap_etl_last_success_timestamp_seconds', help: 'Unix time at which the last ETL run without failures ended.', registers: [registry] }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** What the completeness gauges show, as the store reads it (`readCompleteness`). */
export interface CompletenessReading {
  datasets: Record<string, { coveredHours: number; missingHours: number; gaps: number; failedObjects: number }>
  unreconciledTwaps: number
  undecidedTwaps: number
}

const COMPLETENESS_GAUGES = {
  coveredHours: ['hltwap_coverage_covered_hours', 'Hours of source data stored, per dataset.'],
  missingHours: ['hltwap_coverage_missing_hours', 'Hours with no ingested object inside the dataset\'s covered span.'],
  gaps: ['hltwap_coverage_gaps', 'Runs of consecutive missing hours inside the dataset\'s covered span.'],
  failedObjects: ['hltwap_coverage_failed_objects', 'Objects whose last ingest failed, waiting for a retry.'],
} as const

/**
 * Gauges of what `hl-twap check` counts, in `registry`, read from the store by `read` when
 * `/metrics` is scraped (so they are right in any process, whichever one ingests). A read
 * that fails or takes longer than `timeoutMs` leaves the previous values, and
 * `hltwap_completeness_read_timestamp_seconds` says when they were read. Registering again
 * (another app on the same registry) replaces the reader.
 */
export function registerCompletenessGauges(registry: Registry, read: () => Promise<CompletenessReading>, options: { timeoutMs: number; onError?: (err: unknown) => void }): void {
  let inFlight: Promise<void> | undefined
  const refresh = () => (inFlight ??= readWithin(read, options.timeoutMs)
    .then((r) => {
      for (const [field, [name]] of Object.entries(COMPLETENESS_GAUGES)) {
        const gauge = perDataset[name]!
        gauge.reset()
        for (const [dataset, counts] of Object.entries(r.datasets)) gauge.set({ dataset }, counts[field as keyof typeof COMPLETENESS_GAUGES])
      }
      unreconciled.set(r.unreconciledTwaps)
      undecided.set(r.undecidedTwaps)
      readAt.set(Date.now() / 1000)
    }, (err: unknown) => options.onError?.(err))
    .finally(() => { inFlight = undefined }))
  const gauge = <T extends string>(name: string, help: string, labelNames: readonly T[] = []) => {
    registry.removeSingleMetric(name)
    return new Gauge({ name, help, labelNames, registers: [registry], collect: refresh })
  }
  const perDataset: Record<string, Gauge<'dataset'>> = Object.fromEntries(
    Object.values(COMPLETENESS_GAUGES).map(([name, help]) => [name, gauge(name, help, ['dataset'] as const)]))
  const unreconciled = gauge('hltwap_twaps_unreconciled', 'TWAPs whose fills do not add up to what their status says they executed.')
  const undecided = gauge('hltwap_twaps_undecided', 'Terminal TWAPs inside the fills\' covered span whose life has an hour without fills.')
  const readAt = gauge('hltwap_completeness_read_timestamp_seconds', 'Unix time the completeness gauges were last read from the store (0 before the first read).')
}

/** `read()`, or a rejection once `ms` have passed; the late read is left to finish on its own. */
function readWithin<T>(read: () => Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const work = read()
  work.catch(() => {})
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the completeness counts were not read within ${ms} ms`)), ms)
  })
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}
