-- Which statuses end a TWAP. The first schema counted every status it did not know as
-- terminal, so `waitingForTrigger` (placed, not started) outranked `activated` at an
-- equal time. Terminal now means known to be final: finished, terminated, stopped, or an
-- error (`error: <reason>`); any other word, known or new, is not.
-- PostgreSQL 14 and 15 cannot change a generated column's expression, so the column is
-- dropped and added again, and the index that orders pages by it rebuilt.
DROP INDEX twap_status_wallet_ts;
ALTER TABLE twap_status DROP COLUMN is_terminal;
ALTER TABLE twap_status ADD COLUMN is_terminal BOOLEAN NOT NULL GENERATED ALWAYS AS (
  COALESCE(lower(status) IN ('finished', 'terminated', 'stopped') OR lower(status) LIKE 'error%', false)
) STORED;
CREATE INDEX twap_status_wallet_ts ON twap_status (wallet, ts, is_terminal, id);
