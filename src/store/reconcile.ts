import type { Queryable } from './db.ts'

// The judging and its rule are stored functions (migrations/006_reconciliation_rule.sql),
// so the ingest and a migration that re-judges stored TWAPs apply the same rule.
const JUDGE = 'SELECT judge_twaps($1::text[])'

/** The TWAPs of the rows object `key` of each dataset holds. */
const HELD: Readonly<Record<string, string>> = {
  statuses: `SELECT DISTINCT s.twap_id FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id WHERE o.s3_object_key = $1`,
  fills: `SELECT DISTINCT f.twap_id FROM twap_fill_object o JOIN twap_fill f ON f.id = o.fill_id WHERE o.s3_object_key = $1`,
}

// The undecided TWAPs whose life overlaps the hours a fills object covers: those may have
// become decidable now that these hours are covered.
const WAITING_FOR_HOURS = `
  SELECT r.twap_id FROM twap_reconciliation r
   WHERE r.reconciled IS NULL AND r.terminal
     AND r.last_hour >= (SELECT min(hour) FROM ingest_coverage WHERE dataset = 'fills' AND s3_object_key = $1)
     AND r.first_hour <= (SELECT max(hour) FROM ingest_coverage WHERE dataset = 'fills' AND s3_object_key = $1)`

/**
 * The TWAPs whose rows object `key` of `dataset` holds. Read in a rewrite's transaction
 * before the new version replaces the old one, so that TWAPs whose rows the rewrite drops
 * or changes are judged again too (see `reconcileObject`).
 */
export async function twapsOfObject(tx: Queryable, dataset: string, key: string): Promise<string[]> {
  const held = HELD[dataset]
  if (!held) return []
  const { rows } = await tx.query<{ twap_id: string }>(held, [key])
  return rows.map((r) => r.twap_id)
}

/** Decides again whether each of the TWAPs `twapIds` reconciles with its fills, and stores the verdict. */
export async function reconcileTwaps(tx: Queryable, twapIds: readonly string[]): Promise<void> {
  if (twapIds.length === 0) return
  await tx.query(JUDGE, [twapIds])
}

/**
 * Decides again the TWAPs object `key` of `dataset` touches: those of its rows, in either
 * order of arrival (statuses before fills or after), those its earlier version held
 * (`before`, from `twapsOfObject`, when it is a rewrite), and for fills the TWAPs waiting
 * for the hours it covers. Called in the object's load transaction, after its coverage.
 */
export async function reconcileObject(tx: Queryable, dataset: string, key: string, before: readonly string[] = []): Promise<void> {
  const ids = new Set([...before, ...await twapsOfObject(tx, dataset, key)])
  if (dataset === 'fills') for (const r of (await tx.query<{ twap_id: string }>(WAITING_FOR_HOURS, [key])).rows) ids.add(r.twap_id)
  await reconcileTwaps(tx, [...ids])
}
