import { readCoverage } from './coverage.ts'
import type { Queryable } from './db.ts'

/** What one dataset lacks: the counts `hl-twap check` prints for it. */
export interface DatasetCompletenessCounts {
  coveredHours: number
  missingHours: number
  gaps: number
  failedObjects: number
}

/** The counts behind the completeness gauges of `/metrics`. */
export interface CompletenessCounts {
  datasets: Record<string, DatasetCompletenessCounts>
  /** TWAPs whose fills do not add up to what their status says they executed. */
  unreconciledTwaps: number
  /** Terminal TWAPs inside the fills' covered span whose life has an hour without fills. */
  undecidedTwaps: number
}

// Both counts go through a partial index of twap_reconciliation. Undecided TWAPs are
// counted inside the fills' covered span only: before it (or with no fills at all) every
// TWAP is undecided, which says nothing a gap count does not, and would count the table.
const TWAP_COUNTS = `
  SELECT (SELECT count(*)::int FROM twap_reconciliation WHERE reconciled = false) AS unreconciled,
         (SELECT count(*)::int FROM twap_reconciliation r
           WHERE r.reconciled IS NULL AND r.terminal
             AND r.last_hour >= (SELECT min(hour) FROM ingest_coverage WHERE dataset = 'fills')
             AND r.first_hour <= (SELECT max(hour) FROM ingest_coverage WHERE dataset = 'fills')) AS undecided`

/**
 * The gaps, missing hours and failed objects of each of `datasets` over its covered span,
 * exactly as `hl-twap check` without `--since` reports them, and the unreconciled and
 * undecided TWAPs. Read from the tables the ingest keeps (coverage hours, ingest log,
 * verdicts), never from the events, so a scrape can afford it.
 */
export async function readCompleteness(db: Queryable, datasets: readonly string[]): Promise<CompletenessCounts> {
  const [coverages, twaps] = await Promise.all([
    Promise.all(datasets.map((d) => readCoverage(db, d))),
    db.query<{ unreconciled: number; undecided: number }>(TWAP_COUNTS),
  ])
  const counts = twaps.rows[0]!
  return {
    datasets: Object.fromEntries(datasets.map((d, i) => {
      const c = coverages[i]!
      return [d, { coveredHours: c.coveredHours, missingHours: c.missingHours, gaps: c.gaps.length, failedObjects: c.failed.length }]
    })),
    unreconciledTwaps: counts.unreconciled,
    undecidedTwaps: counts.undecided,
  }
}
