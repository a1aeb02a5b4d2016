-- Whether an executed figure of a TWAP's status (size or notional) agrees with the same
-- figure summed from its fills (Σ sz, Σ px·sz, exact in NUMERIC over `fills` fills).
--
-- The source's figures read as float64 values printed in their shortest form ("0.0",
-- "108.36"): a node adds each slice's px·sz in binary floating point, so its notional can
-- differ from the exact sum in the last digits (90.38458000000001 for 48.334 × 1.87), and a
-- writer that rounds to fixed places would differ by up to half a unit of the last place it
-- keeps. They agree when the difference is at most the larger of
--   * half a unit in the last decimal place the status shows (0.05 for "9050.0"), and
--   * (fills + 3) × 2^-53 × |Σ|: the error bound of summing `fills` float64 products, each
--     of two rounded inputs, and printing the result.
-- On 20,000 simulated TWAPs (1 to 400 slices, 5-significant-digit prices, 0 to 5 size
-- decimals, figures summed in float64) 56% of the figures differ from the exact sum and
-- rounding to the status's decimals rejects all of those; the largest difference seen is
-- 0.27 of the float bound (tests/store/reconcile.test.ts checks 500 of them in SQL). The
-- bound stays far below one slice or one size lot, so a missing or short fill still fails.
CREATE FUNCTION twap_figure_agrees(stated NUMERIC, summed NUMERIC, fills INTEGER) RETURNS BOOLEAN
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT abs(summed - stated) <= greatest(power(10::numeric, -scale(stated)) / 2,
                                            (fills + 3) * abs(summed) / 9007199254740992)
  $$;

-- Decides whether each TWAP of `ids` reconciles with its fills and stores the verdict in
-- twap_reconciliation; a TWAP with no status left loses its verdict. Its life is the hours
-- from its placement (else its first stored event) to its latest event; its fills are
-- covered when every hour of that life is in the fills coverage. Undecided (null) while
-- it runs, while a figure is missing, or while an hour of its life has no fills object;
-- except a TWAP that executed nothing (an error right after placement, say): its status
-- says it has no fills, so it reconciles when none is stored and fails when one is,
-- whether or not fills cover its life.
-- A stored function so the ingest and the migrations that re-judge stored TWAPs (as this
-- one does) apply one and the same rule.
CREATE FUNCTION judge_twaps(ids TEXT[]) RETURNS VOID
  LANGUAGE sql
  AS $$
  WITH latest AS (
    SELECT DISTINCT ON (twap_id) twap_id, wallet, ts, is_terminal, size_executed, notional_executed, placed_at
      FROM twap_status WHERE twap_id = ANY(ids)
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
                            FROM twap_fill WHERE twap_id = l.twap_id) f),
  stored AS (
    INSERT INTO twap_reconciliation AS r
      (twap_id, wallet, reconciled, terminal, first_hour, last_hour, executed_size, executed_notional, filled_size, filled_notional, fills_count, computed_at)
    SELECT twap_id, wallet,
           CASE WHEN NOT is_terminal OR size_executed IS NULL OR notional_executed IS NULL THEN NULL
                WHEN size_executed = 0 AND notional_executed = 0 THEN count = 0
                WHEN last_hour < first_hour OR covered < extract(epoch FROM last_hour - first_hour) / 3600 + 1 THEN NULL
                ELSE twap_figure_agrees(size_executed, size, count) AND twap_figure_agrees(notional_executed, notional, count)
           END,
           is_terminal, first_hour, last_hour, size_executed, notional_executed, size, notional, count, now()
      FROM judged
    ON CONFLICT (twap_id) DO UPDATE SET
      wallet = EXCLUDED.wallet, reconciled = EXCLUDED.reconciled, terminal = EXCLUDED.terminal,
      first_hour = EXCLUDED.first_hour, last_hour = EXCLUDED.last_hour,
      executed_size = EXCLUDED.executed_size, executed_notional = EXCLUDED.executed_notional,
      filled_size = EXCLUDED.filled_size, filled_notional = EXCLUDED.filled_notional,
      fills_count = EXCLUDED.fills_count, computed_at = EXCLUDED.computed_at
    RETURNING 1)
  DELETE FROM twap_reconciliation r
   WHERE r.twap_id = ANY(ids) AND NOT EXISTS (SELECT 1 FROM twap_status s WHERE s.twap_id = r.twap_id)
  $$;

-- Every stored TWAP judged again by this rule: those stored before verdicts were kept have
-- none yet, and the others were judged by rounding the sums to the status's decimals.
SELECT judge_twaps(ARRAY(SELECT DISTINCT twap_id FROM twap_status));

-- What /healthz and /metrics read per dataset: its newest good ingest, its failing objects.
CREATE INDEX etl_s3_ingest_log_newest ON etl_s3_ingest_log (dataset, ingested_at DESC) WHERE error_text IS NULL;
CREATE INDEX etl_s3_ingest_log_failed ON etl_s3_ingest_log (dataset) WHERE error_text IS NOT NULL;
