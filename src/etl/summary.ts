import type { DatasetName } from '#src/config.ts'
import type { CostEstimate } from '#src/source/source.ts'
import type { PlannedObject } from './plan.ts'

/** What a run did, for the reporter, the metrics and the caller. */
export interface EtlSummary {
  dataset: DatasetName
  dryRun: boolean
  objectsOk: number
  objectsFailed: number
  objectsSkipped: number
  rowsInserted: number
  rowsDuplicate: number
  rowsRejected: number
  rowsDropped: number
  bytes: number
  cost: CostEstimate
  durationMs: number
  failures: { key: string; error: string }[]
  planned: PlannedObject[]
  /** Objects of the plan left for the next run because the run was stopped. */
  objectsLeft: number
}
