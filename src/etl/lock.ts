import { hostname } from 'node:os'
import type { Db, Session } from '#src/store/db.ts'

/** Advisory lock keys (two int4s) naming "the ETL of this database". */
const LOCK_CLASS = 74_610
const LOCK_ID = 22_102

/** Another ETL run holds the database; the message says which. */
export class EtlBusyError extends Error {
  override name = 'EtlBusyError'
}

const runningHere = new Set<Db>()

/** The embedded engine's lock is this process's own: it cannot be lost while it runs. */
const NEVER_LOST = new AbortController().signal

/**
 * Runs `fn` while holding the database's ETL lock, so at most one ETL runs per database:
 * a session-level advisory lock on a connection held for the whole run on PostgreSQL (the
 * server drops it if the process dies), and on the embedded engine, which one process owns
 * already, a guard against two runs inside that process (a scheduled run meeting a manual
 * one). A second run gets an `EtlBusyError` naming the holder. `fn` is given a signal that
 * aborts when the lock's connection is lost (the server shut down or terminated it): the
 * lock is gone with it, so the run must stop.
 */
export async function withEtlLock<T>(db: Db, fn: (lockLost: AbortSignal) => Promise<T>): Promise<T> {
  if (runningHere.has(db)) throw new EtlBusyError(`an ETL run is already in progress in this process (pid ${process.pid})`)
  runningHere.add(db)
  try {
    if (db.engine !== 'postgres') return await fn(NEVER_LOST)
    return await db.withSession(async (session) => {
      await session.query(`SELECT set_config('application_name', $1, false)`, [`hl-twap etl (pid ${process.pid} on ${hostname()})`])
      const { rows } = await session.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS locked', [LOCK_CLASS, LOCK_ID])
      if (!rows[0]?.locked) throw new EtlBusyError(`another ETL run holds ${db.location}: ${await describeHolder(session)}`)
      try {
        return await fn(session.lost)
      } finally {
        await session.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, LOCK_ID]).catch(() => {})
        await session.query(`SELECT set_config('application_name', 'hl-twap', false)`).catch(() => {})
      }
    })
  } finally {
    runningHere.delete(db)
  }
}

async function describeHolder(session: Session): Promise<string> {
  const { rows } = await session.query<{ application_name: string; pid: number; client_addr: string | null; since: string }>(
    `SELECT a.application_name, a.pid, host(a.client_addr) AS client_addr, a.backend_start::text AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = $2 AND l.granted
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_CLASS, LOCK_ID])
  const h = rows[0]
  if (!h) return 'a session that has just finished; try again'
  return `${h.application_name || 'unknown client'} (server pid ${h.pid}${h.client_addr ? ` from ${h.client_addr}` : ''}, connected since ${h.since})`
}
