-- Every TWAP status event, exactly as decoded from the source files.
CREATE TABLE twap_status (
  id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  twap_id           TEXT        NOT NULL,
  wallet            TEXT        NOT NULL,
  ts                TIMESTAMPTZ NOT NULL,
  asset             TEXT,
  side              TEXT,
  size_requested    NUMERIC,
  size_executed     NUMERIC,
  notional_executed NUMERIC,
  status            TEXT,
  duration_minutes  INTEGER,
  placed_at         TIMESTAMPTZ,
  reduce_only       BOOLEAN,
  randomize         BOOLEAN,
  -- A terminal event outranks an `activated` one carrying the same timestamp.
  is_terminal       BOOLEAN GENERATED ALWAYS AS (
                      status IS NOT NULL
                      AND lower(status) NOT IN ('activated', 'executing', 'running', 'pending', 'waiting')
                    ) STORED,
  s3_object_key     TEXT        NOT NULL,
  raw_payload       JSONB       NOT NULL,
  inserted_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per event: the same event loaded twice collides here and is skipped, while the
-- `activated` and `finished` events of one TWAP differ by status even at equal timestamps.
-- COALESCE rather than NULLS NOT DISTINCT keeps PostgreSQL 14 supported.
CREATE UNIQUE INDEX twap_status_event_key
  ON twap_status (twap_id, ts, COALESCE(status, ''), COALESCE(size_executed, -1));

-- The API's access path: a wallet's events newest first, in the order TWAPs are paged.
CREATE INDEX twap_status_wallet_ts ON twap_status (wallet, ts, is_terminal, id);

-- Replacing the rows of an object that changed upstream.
CREATE INDEX twap_status_object ON twap_status (s3_object_key);

-- One row per source object: what was ingested, when, and how it went.
CREATE TABLE etl_s3_ingest_log (
  s3_object_key  TEXT PRIMARY KEY,
  etag           TEXT,
  last_modified  TIMESTAMPTZ,
  size_bytes     BIGINT,
  rows_ingested  INTEGER     NOT NULL DEFAULT 0,
  rows_duplicate INTEGER     NOT NULL DEFAULT 0,
  rows_rejected  INTEGER     NOT NULL DEFAULT 0,
  error_text     TEXT,
  duration_ms    INTEGER,
  ingested_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
