-- Every fill of a TWAP slice, exactly as decoded from Hyperliquid's node fills.
-- oid, tid and twap_id are kept as their decimal digits: they pass 2^53, and no reader
-- ever does arithmetic on them.
CREATE TABLE twap_fill (
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  twap_id        TEXT        NOT NULL CHECK (twap_id ~ '^[0-9]+$'),
  wallet         TEXT        NOT NULL,
  time           TIMESTAMPTZ NOT NULL,
  coin           TEXT,
  side           TEXT,
  px             NUMERIC     NOT NULL,
  sz             NUMERIC     NOT NULL,
  fee            NUMERIC,
  fee_token      TEXT,
  builder_fee    NUMERIC,
  closed_pnl     NUMERIC,
  start_position NUMERIC,
  dir            TEXT,
  crossed        BOOLEAN,
  oid            TEXT        NOT NULL CHECK (oid ~ '^[0-9]+$'),
  tid            TEXT        NOT NULL CHECK (tid ~ '^[0-9]+$'),
  hash           TEXT,
  block_number   BIGINT,
  block_time     TIMESTAMPTZ,
  -- The first object the fill was loaded from; `twap_fill_object` has every one.
  s3_object_key  TEXT        NOT NULL,
  raw_payload    JSONB       NOT NULL,
  inserted_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- One row per fill: a trade's id with the wallet and order of one side. Loading a fill
-- twice collides here; the two sides of one trade (same tid, other wallet and order) do not.
CREATE UNIQUE INDEX twap_fill_key ON twap_fill (tid, wallet, oid);

-- A TWAP's fills by time, and a wallet's fills by time (the API's two ways in).
CREATE INDEX twap_fill_twap_time ON twap_fill (twap_id, time, id);
CREATE INDEX twap_fill_wallet_time ON twap_fill (wallet, time, id);

-- Which objects hold each fill. A fill stays while any ingested object holds it: an object
-- rewritten upstream drops only the fills no other object holds.
CREATE TABLE twap_fill_object (
  s3_object_key TEXT   NOT NULL,
  fill_id       BIGINT NOT NULL REFERENCES twap_fill (id) ON DELETE CASCADE,
  PRIMARY KEY (s3_object_key, fill_id)
);
CREATE INDEX twap_fill_object_fill ON twap_fill_object (fill_id);

-- The ingest log serves every dataset: the same key may exist in two buckets.
ALTER TABLE etl_s3_ingest_log ADD COLUMN dataset TEXT NOT NULL DEFAULT 'statuses';
ALTER TABLE etl_s3_ingest_log DROP CONSTRAINT etl_s3_ingest_log_pkey;
ALTER TABLE etl_s3_ingest_log ADD PRIMARY KEY (dataset, s3_object_key);
