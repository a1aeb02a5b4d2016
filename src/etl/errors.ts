import type { EtlSummary } from './summary.ts'

/**
 * The database went away during the run (or the connection holding the ETL lock did): the
 * objects in flight ended, failed ones logged when the log could still be written, and the
 * rest wait for the next run. Thrown after the reporter has had the run's summary.
 */
export class EtlDatabaseLostError extends Error {
  override name = 'EtlDatabaseLostError'
  readonly summary: EtlSummary
  constructor(message: string, summary: EtlSummary, options?: { cause?: unknown }) {
    super(message, options)
    this.summary = summary
  }
}

/** A run refused before it fetched anything (over `--max-bytes`, a marker named by `--object-key`…). */
export class EtlRefusedError extends Error {
  override name = 'EtlRefusedError'
}
