import type { Queryable } from './db.ts'

// A TWAP's life is the hours from its placement (else its first stored event) to its latest
// event. Its fills are covered when every hour of that life is in the fills coverage. The
// verdict compares the sums with the status's figures rounded to the decimals the status
// itself shows: the source writes executed size and notional to a fixed number of places,
// so Σ px·sz of the slices can carry more digits than it does.
const JUDGE = `
  WITH latest AS (
    SELECT DISTINCT ON (twap_id) twap_id, wallet, ts, is_terminal, size_executed, notional_executed, placed_at
      FROM twap_status WHERE twap_id = ANY($1::text[])
     ORDER BY twap_id, ts DESC, is_terminal DESC, id DESC),
  life AS (
    SELECT l.*, date_trunc('hour', COALESCE(l.placed_at, (SELECT min(s.ts) FROM twap_status s WHERE s.twap_id = l.twap_id))) AS first_hour,
           date_trunc('hour', l.ts) AS last_hour
      FROM latest l),
  judged AS (
    SELECT l.*, f.size, f.notional, f.count,
           (SELECT count(DISTINCT c.hour) FROM ingest_coverage c
             WHERE c.dataset = 'fills' AND c.hour BETWEEN l.first_hour AND l.last_hour) AS covered
      FROM life l
      CROSS JOIN LATERAL (SELECT COALESCE(sum(sz), 0) AS size, COALESCE(sum(px * sz), 0) AS notional, count(*)::int AS count
                            FROM twap_fill WHERE twap_id = l.twap_id) f)
  INSERT INTO twap_reconciliation AS r
    (twap_id, wallet, reconciled, terminal, first_hour, last_hour, executed_size, executed_notional, filled_size, filled_notional, fills_count, computed_at)
  SELECT twap_id, wallet,
         CASE WHEN NOT is_terminal OR size_executed IS NULL OR notional_executed IS NULL
                OR last_hour < first_hour OR covered < extract(epoch FROM last_hour - first_hour) / 3600 + 1 THEN NULL
              ELSE round(size, scale(size_executed)) = size_executed AND round(notional, scale(notional_executed)) = notional_executed
         END,
         is_terminal, first_hour, last_hour, size_executed, notional_executed, size, notional, count, now()
    FROM judged
  ON CONFLICT (twap_id) DO UPDATE SET
    wallet = EXCLUDED.wallet, reconciled = EXCLUDED.reconciled, terminal = EXCLUDED.terminal,
    first_hour = EXCLUDED.first_hour, last_hour = EXCLUDED.last_hour,
    executed_size = EXCLUDED.executed_size, executed_notional = EXCLUDED.executed_notional,
    filled_size = EXCLUDED.filled_size, filled_notional = EXCLUDED.filled_notional,
    fills_count = EXCLUDED.fills_count, computed_at = EXCLUDED.computed_at`

const FORGET_GONE = `
  DELETE FROM twap_reconciliation r
   WHERE r.twap_id = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM twap_status s WHERE s.twap_id = r.twap_id)`

const TOUCHED: Readonly<Record<string, string>> = {
  statuses: `SELECT DISTINCT s.twap_id FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id WHERE o.s3_object_key = $1`,
  // The TWAPs of the object's fills, and the undecided ones whose life overlaps its hours:
  // those may have become decidable now that these hours are covered.
  fills: `
    SELECT DISTINCT f.twap_id FROM twap_fill_object o JOIN twap_fill f ON f.id = o.fill_id WHERE o.s3_object_key = $1
    UNION
    SELECT r.twap_id FROM twap_reconciliation r
     WHERE r.reconciled IS NULL AND r.terminal
       AND r.last_hour >= (SELECT min(hour) FROM ingest_coverage WHERE dataset = 'fills' AND s3_object_key = $1)
       AND r.first_hour <= (SELECT max(hour) FROM ingest_coverage WHERE dataset = 'fills' AND s3_object_key = $1)`,
}

/** Decides again whether each of the TWAPs `twapIds` reconciles with its fills, and stores the verdict. */
export async function reconcileTwaps(tx: Queryable, twapIds: readonly string[]): Promise<void> {
  if (twapIds.length === 0) return
  await tx.query(JUDGE, [twapIds])
  await tx.query(FORGET_GONE, [twapIds])
}

/**
 * Decides again the TWAPs object `key` of `dataset` touches: those of its rows, in either
 * order of arrival (statuses before fills or after), and for fills the TWAPs waiting for
 * the hours it covers. Called in the object's load transaction, after its coverage.
 */
export async function reconcileObject(tx: Queryable, dataset: string, key: string): Promise<void> {
  const touched = TOUCHED[dataset]
  if (!touched) return
  const { rows } = await tx.query<{ twap_id: string }>(touched, [key])
  await reconcileTwaps(tx, rows.map((r) => r.twap_id))
}

/** The verdicts of `twapIds`: true, false, or null (undecided, or not judged). */
export async function reconciliationOf(db: Queryable, twapIds: readonly string[]): Promise<Map<string, boolean | null>> {
  if (twapIds.length === 0) return new Map()
  const { rows } = await db.query<{ twap_id: string; reconciled: boolean | null }>(
    'SELECT twap_id, reconciled FROM twap_reconciliation WHERE twap_id = ANY($1::text[])', [twapIds])
  return new Map(rows.map((r) => [r.twap_id, r.reconciled]))
}
