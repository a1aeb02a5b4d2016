-- The hours of source data each ingested object holds, per dataset: what coverage, gaps and
-- reconciliation are read from without scanning the events. The ingest writes an object's
-- hours in the transaction that stores its rows and its log entry, and replaces them when
-- the object is rewritten; an object's hours go with its log entry.
CREATE TABLE ingest_coverage (
  dataset       TEXT        NOT NULL,
  hour          TIMESTAMPTZ NOT NULL,
  s3_object_key TEXT        NOT NULL,
  PRIMARY KEY (dataset, hour, s3_object_key),
  FOREIGN KEY (dataset, s3_object_key) REFERENCES etl_s3_ingest_log (dataset, s3_object_key) ON DELETE CASCADE
);

-- Replacing one object's hours.
CREATE INDEX ingest_coverage_object ON ingest_coverage (dataset, s3_object_key);

-- Objects ingested before this migration: the hour their key names in the two hourly
-- layouts the buckets use (…/2025/08/17/13/… and …/20251027/6.lz4), else the span of the
-- rows they hold. A key whose digits name no real date (2025/02/30) falls back to its rows:
-- the day is added to the month's first, and kept only when it stays in that month.
WITH keyed AS (
  SELECT dataset, s3_object_key,
         COALESCE(regexp_match(s3_object_key, '(?:^|/)(20\d{2})/(\d{2})/(\d{2})/(\d{2})(?:/|$)'),
                  regexp_match(s3_object_key, '(?:^|/)(20\d{2})(\d{2})(\d{2})/(\d{1,2})\.[A-Za-z0-9.]+$')) AS m
    FROM etl_s3_ingest_log
   WHERE error_text IS NULL
),
hours AS (
  SELECT dataset, s3_object_key, m[2]::int AS month,
         make_date(m[1]::int, m[2]::int, 1)::timestamp AT TIME ZONE 'UTC'
           + (m[3]::int - 1) * interval '1 day' + m[4]::int * interval '1 hour' AS hour
    FROM keyed
   WHERE m IS NOT NULL AND m[2]::int BETWEEN 1 AND 12 AND m[3]::int BETWEEN 1 AND 31 AND m[4]::int < 24
),
by_key AS (
  SELECT dataset, s3_object_key, hour FROM hours
   WHERE extract(month FROM hour AT TIME ZONE 'UTC') = month
)
INSERT INTO ingest_coverage (dataset, hour, s3_object_key)
SELECT dataset, hour, s3_object_key FROM by_key;

INSERT INTO ingest_coverage (dataset, hour, s3_object_key)
SELECT l.dataset, h.hour, l.s3_object_key
  FROM etl_s3_ingest_log l
  CROSS JOIN LATERAL (
    SELECT min(s.ts) AS first, max(s.ts) AS last
      FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id
     WHERE l.dataset = 'statuses' AND o.s3_object_key = l.s3_object_key
    UNION ALL
    SELECT min(f.time), max(f.time)
      FROM twap_fill_object o JOIN twap_fill f ON f.id = o.fill_id
     WHERE l.dataset = 'fills' AND o.s3_object_key = l.s3_object_key
  ) span
  CROSS JOIN LATERAL generate_series(date_trunc('hour', span.first AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
                                     span.last, interval '1 hour') AS h(hour)
 WHERE span.first IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM ingest_coverage c WHERE c.dataset = l.dataset AND c.s3_object_key = l.s3_object_key);

-- Whether each TWAP's fills add up to what its latest status says it executed, decided at
-- ingest for the TWAPs an object touches (see src/store/reconcile.ts). `reconciled` is null
-- while it cannot be decided: the TWAP still running, or its fills not covered over its life.
CREATE TABLE twap_reconciliation (
  twap_id           TEXT PRIMARY KEY,
  wallet            TEXT        NOT NULL,
  reconciled        BOOLEAN,
  terminal          BOOLEAN     NOT NULL,
  first_hour        TIMESTAMPTZ NOT NULL,
  last_hour         TIMESTAMPTZ NOT NULL,
  executed_size     NUMERIC,
  executed_notional NUMERIC,
  filled_size       NUMERIC     NOT NULL,
  filled_notional   NUMERIC     NOT NULL,
  fills_count       INTEGER     NOT NULL,
  computed_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The undecided terminal TWAPs whose life overlaps hours of fills that just arrived.
CREATE INDEX twap_reconciliation_undecided ON twap_reconciliation (last_hour, first_hour) WHERE reconciled IS NULL AND terminal;
CREATE INDEX twap_reconciliation_unreconciled ON twap_reconciliation (wallet) WHERE reconciled = false;
