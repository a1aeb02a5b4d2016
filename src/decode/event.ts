/**
 * One TWAP status event, decoded from a source row and ready to store. This is the type
 * shared by decoding, bulk loading and tests: every value is already in the exact text
 * form PostgreSQL receives, so nothing between decode and COPY can lose precision.
 */
export interface TwapEvent {
  /** Upstream TWAP id as decimal text (int64 or string in the files). */
  twapId: string
  /** `0x` + 40 hex digits, lower-case. */
  wallet: string
  /** Event time as ISO-8601 UTC (microsecond precision at most), never before 2000. */
  ts: string
  asset: string | null
  side: string | null
  /** Exact decimal text, e.g. `"0.1"`, `"950.25"`. */
  sizeRequested: string | null
  sizeExecuted: string | null
  notionalExecuted: string | null
  /** `activated`, `finished`, `terminated`, `error: …` or an older word. */
  status: string | null
  durationMinutes: number | null
  /** Placement time of the TWAP (`state_timestamp`), ISO-8601 UTC. */
  placedAt: string | null
  reduceOnly: boolean | null
  randomize: boolean | null
  /** The whole source row as JSON text; integers beyond 2^53 are kept as decimal strings. */
  raw: string
}

/** A source row that could not become an event, with the reason a user can act on. */
export interface RejectedRow {
  /** Zero-based row number within the file. */
  row: number
  reason: string
}
