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
