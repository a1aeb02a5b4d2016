-- A wallet's summary keeps each TWAP's latest event in the range (DISTINCT ON twap_id).
-- Through `twap_status_wallet_ts` that meant reading every event of the wallet from the
-- table and sorting them by TWAP: seconds for a wallet with 200,000 events. This index
-- yields them already in that order and carries the summed columns, so the query is an
-- index-only scan with no sort.
CREATE INDEX twap_status_wallet_latest
  ON twap_status (wallet, twap_id, ts DESC, is_terminal DESC, id DESC)
  INCLUDE (asset, side, status, size_executed, notional_executed);
