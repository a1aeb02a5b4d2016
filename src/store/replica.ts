import type { Queryable } from './db.ts'

/** How far a PostgreSQL streaming replica is behind its primary, as `/healthz` reports it. */
export interface ReplicaLag {
  /** The server is a standby (in recovery); false for a primary, where the figures are null. */
  standby: boolean
  /**
   * Seconds the replica's data is behind: 0 when it has replayed all the WAL it has
   * received, else the age of the last transaction it replayed (its commit time on the
   * primary). Null when it is no standby, or has replayed nothing since it started.
   */
  lagSeconds: number | null
  /** Bytes of WAL received from the primary and not yet replayed; null when it is no standby or not streaming. */
  lagBytes: number | null
}

// `now() - pg_last_xact_replay_timestamp()` alone grows on a primary that writes nothing,
// so a replica that has replayed everything it received counts as 0 s behind. Every
// function here is callable by any role; the figures need no monitoring privileges.
const LAG_SQL = `
SELECT pg_is_in_recovery() AS standby,
       CASE WHEN NOT pg_is_in_recovery() THEN NULL
            WHEN pg_last_wal_receive_lsn() IS NOT NULL AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
            ELSE greatest(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 0)::float8
       END AS lag_seconds,
       CASE WHEN pg_is_in_recovery()
            THEN greatest(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0)::float8
       END AS lag_bytes`

/** The replica's lag, read on the replica itself (one statement, no privileges needed). */
export async function replicaLag(db: Queryable): Promise<ReplicaLag> {
  const { rows: [row] } = await db.query<{ standby: boolean; lag_seconds: number | null; lag_bytes: number | null }>(LAG_SQL)
  return { standby: row?.standby ?? false, lagSeconds: row?.lag_seconds ?? null, lagBytes: row?.lag_bytes ?? null }
}
