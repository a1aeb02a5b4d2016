/**
 * CPU time spent by the PostgreSQL backends serving one database, for telling apart the
 * database's work from the client's when other work shares the machine (CPU seconds are
 * far steadier than wall time on a busy box).
 */

import { readFileSync } from 'node:fs'
import pg from 'pg'

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
export const TICKS_PER_SECOND = 100
const POLL_MS = 200

/** A database on a PostgreSQL server whose backends' CPU is counted, and where to ask about them. */
export interface WatchedDb {
  adminUrl: string
  name: string
}

/**
 * Starts watching the backends connected to `db` (found in pg_stat_activity) and
 * summing the user+system CPU they spend from now on, read from /proc: backends already
 * connected count from their CPU at the start, new ones from zero. `stop` returns the
 * seconds, or null when the server's processes cannot be read (a remote server, another
 * container).
 */
export async function watchBackendCpu(db: WatchedDb): Promise<{ stop(): Promise<number | null> }> {
  const client = new pg.Client({ connectionString: db.adminUrl })
  await client.connect()
  const baseline = new Map<number, number>()
  const lastSeen = new Map<number, number>()
  let reads = 0
  let failures = 0
  const poll = async (into: Map<number, number>) => {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db.name])
    for (const { pid } of rows) {
      // A backend may exit between the query and the read: that alone is no failure.
      const ticks = cpuTicks(pid)
      if (ticks === null) failures++
      else into.set(pid, ticks)
      reads++
    }
  }
  await poll(baseline)
  let polling = Promise.resolve()
  const timer = setInterval(() => { polling = polling.then(() => poll(lastSeen)).catch(() => {}) }, POLL_MS)
  return {
    async stop() {
      clearInterval(timer)
      await polling
      await poll(lastSeen).catch(() => {})
      await client.end()
      if (reads > 0 && failures === reads) return null
      let ticks = 0
      for (const [pid, last] of lastSeen) ticks += last - (baseline.get(pid) ?? 0)
      return ticks / TICKS_PER_SECOND
    },
  }
}

/** utime + stime of a process, in ticks; null when it cannot be read. */
export function cpuTicks(pid: number | undefined): number | null {
  if (pid === undefined) return null
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return null
  }
}
