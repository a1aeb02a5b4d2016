-- The data version: one row whose counter moves on in every transaction that changes the
-- ingest log, i.e. with every object ingested, rewritten, failed or removed, which is every
-- change to what the API answers. The API derives its ETags from it, so a client's copy is
-- current exactly while the counter stands still. `epoch` is drawn once per database, so
-- a database created afresh never repeats an earlier one's versions.
CREATE TABLE data_version (
  only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
  epoch    TEXT    NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text),
  version  BIGINT  NOT NULL DEFAULT 0
);
INSERT INTO data_version DEFAULT VALUES;

-- Runs at commit (a deferred constraint trigger), not when the log row is written: the
-- row lock it takes is held only while the transaction commits, so concurrent object loads
-- do not queue on it for their whole length. The notification, delivered on commit, lets
-- a listening process drop its copy of the version.
CREATE FUNCTION bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE data_version SET version = version + 1;
  PERFORM pg_notify('data_version', '');
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER data_version_on_ingest
  AFTER INSERT OR UPDATE OR DELETE ON etl_s3_ingest_log
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION bump_data_version();
