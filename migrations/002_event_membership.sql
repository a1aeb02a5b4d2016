-- Which ingested objects hold each event. An event is stored once however many objects
-- carry it, and `twap_status.s3_object_key` names only the first; a rewritten object gives
-- up its memberships, and an event goes only once no object holds it any more.
--
-- The index on `twap_status (s3_object_key)` had the name this table needs; it stays, for
-- the consumers that look events up by their first object, under a name saying what it is.
ALTER INDEX twap_status_object RENAME TO twap_status_s3_object_key;

CREATE TABLE twap_status_object (
  s3_object_key TEXT   NOT NULL,
  status_id     BIGINT NOT NULL REFERENCES twap_status (id) ON DELETE CASCADE,
  PRIMARY KEY (s3_object_key, status_id)
);

-- "Does another object still hold this event?", asked for every event of a rewritten object.
CREATE INDEX twap_status_object_status ON twap_status_object (status_id);

-- Until now every event was held by the object that loaded it first, as far as the store knew.
INSERT INTO twap_status_object (s3_object_key, status_id)
SELECT s3_object_key, id FROM twap_status;
