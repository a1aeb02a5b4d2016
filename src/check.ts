import type { DatasetName } from './config.ts'
import type { Queryable } from './store/db.ts'
import { isoFromPg } from './store/db.ts'
import { readCoverage } from './store/coverage.ts'

export interface CheckReport {
  /** What `hl-twap check` prints, one finding (or the all-clear) a line. */
  lines: string[]
  /** Gaps, failed objects and unreconciled TWAPs found: any makes the check fail. */
  problems: number
}

const UNRECONCILED = `
  SELECT twap_id, wallet, executed_size::text, executed_notional::text, filled_size::text, filled_notional::text, fills_count, last_hour
    FROM twap_reconciliation
   WHERE reconciled = false AND ($1::timestamptz IS NULL OR last_hour >= date_trunc('hour', $1::timestamptz))
   ORDER BY last_hour, twap_id`

/**
 * Everything that makes stored data short of complete: per dataset the gaps in its hours
 * (from `since` to now when given, else inside its covered span) and the objects waiting
 * for a retry, and every TWAP whose fills do not add up to what it executed (with fills in
 * the datasets checked). Reads the tables the ingest keeps, never the events.
 */
export async function runCheck(db: Queryable, options: { since?: Date; datasets: readonly DatasetName[] }): Promise<CheckReport> {
  const lines: string[] = []
  let problems = 0
  const range = options.since ? { startMs: options.since.getTime(), endMs: Date.now() } : undefined
  for (const dataset of options.datasets) {
    const c = await readCoverage(db, dataset, range)
    const span = c.firstHour ? `${c.firstHour} to ${c.lastHour}` : 'nothing covered'
    lines.push(`${dataset}: ${c.coveredHours} hour(s) covered (${span}), ${c.missingHours} missing, ${c.failed.length} failed object(s)`)
    for (const gap of c.gaps) lines.push(`  gap: ${gap.start} to ${gap.end} (${gap.hours} hour(s))`)
    for (const f of c.failed) lines.push(`  failed: ${f.key} at ${f.at}: ${f.error}`)
    problems += c.gaps.length + c.failed.length
  }
  if (options.datasets.includes('fills')) {
    const { rows } = await db.query<{ twap_id: string; wallet: string; executed_size: string | null; executed_notional: string | null; filled_size: string; filled_notional: string; fills_count: number; last_hour: string }>(
      UNRECONCILED, [options.since?.toISOString() ?? null])
    lines.push(`unreconciled TWAPs: ${rows.length}`)
    for (const r of rows) {
      lines.push(`  ${r.twap_id} ${r.wallet} (ended ${isoFromPg(r.last_hour)}): executed ${r.executed_size} for ${r.executed_notional}, filled ${r.filled_size} for ${r.filled_notional} in ${r.fills_count} fill(s)`)
    }
    problems += rows.length
  }
  lines.push(problems === 0 ? 'complete: no gaps, no failed objects, every decided TWAP reconciled' : `incomplete: ${problems} problem(s)`)
  return { lines, problems }
}
