import { accessSync, constants, mkdirSync, readlinkSync, statfsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { resolve, sep } from 'node:path'
import { PGlite, types, type Transaction } from '@electric-sql/pglite'
import { lockDataDir } from './datadir-lock.ts'
import { readDataVersion } from './data-version.ts'
import { StoreError, type Db, type QueryResult, type Session } from './db.ts'
import { DatabaseUnavailableError } from './unavailable.ts'

const asText = (value: string) => value
/** The same text forms as the PostgreSQL driver returns, see `Queryable`. */
const parsers = {
  [types.NUMERIC]: asText,
  [types.INT8]: asText,
  [types.TIMESTAMPTZ]: asText,
  [types.TIMESTAMP]: asText,
  [types.DATE]: asText,
}

type Target = PGlite | Transaction

/** The embedded engine runs in this process: its one session is never lost on its own. */
const NEVER_LOST = new AbortController().signal

/**
 * Free bytes a write transaction of the embedded engine needs to start: PostgreSQL writes
 * its WAL a whole segment (16 MiB) at a time, and a load writes its rows, their indexes and
 * their WAL. Under this the engine also says, when it cannot open, that space is the problem.
 */
const LOW_SPACE_BYTES = 64 * 1024 * 1024

function freeBytes(dir: string): number {
  try {
    const fs = statfsSync(dir)
    return fs.bavail * fs.bsize
  } catch {
    return Number.POSITIVE_INFINITY
  }
}

const mib = (bytes: number) => `${Math.floor(bytes / 1024 / 1024)} MiB`

/** The open engines' data directories (`pgdata`), each with its directory and its lock's release. */
const openEngines = new Map<string, { dir: string; release: () => void }>()

/**
 * The engine whose data directory holds the file open as `fd` (Linux names it under /proc),
 * or the only open one where the name cannot be read.
 */
function engineOf(fd: unknown): { dir: string; release: () => void } | undefined {
  let path: string
  try {
    path = readlinkSync(`/proc/self/fd/${String(fd)}`)
  } catch {
    return openEngines.size === 1 ? [...openEngines.values()][0] : undefined
  }
  for (const [pgdata, engine] of openEngines) if (path.startsWith(pgdata + sep)) return engine
  return undefined
}

/**
 * A write of the embedded engine that meets a full disk stops the process, with one line.
 * PGlite's file system writes through Node's `fs.writeSync` and hands its PostgreSQL only
 * an errno. Where a server would PANIC on a failed WAL write and restart, PGlite spins inside
 * WebAssembly for good: the event loop blocked, SIGTERM unheard, the lock kept, no error
 * (an error thrown instead of the errno ends the same way). Node's error, with its ENOSPC
 * code, is the one place the cause shows and the last moment JavaScript runs, so the
 * function PGlite calls (the `fs` module object it requires) is wrapped: on ENOSPC under an
 * open data directory it writes the line, releases the directory locks and exits 1. That
 * is as safe as a kill: what was committed is in the WAL, recovered on the next open, and
 * the transaction cut short leaves nothing. `transaction` refuses to start short of space,
 * so this is the exception, met only by a load larger than the room left.
 */
const nodeFs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs')
const writeSync = nodeFs.writeSync
nodeFs.writeSync = function (this: unknown, ...args: unknown[]) {
  try {
    return (writeSync as (...a: unknown[]) => number).apply(this, args)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    const engine = code === 'ENOSPC' || code === 'EDQUOT' ? engineOf(args[0]) : undefined
    if (!engine) throw err
    writeSync(2, `hl-twap: no space left on device in ${engine.dir}: the embedded database stopped mid-write; ` +
      'what was committed is kept, the transaction in progress is not (free some space and start again)\n')
    for (const { release } of openEngines.values()) release()
    process.exit(1)
  }
} as typeof writeSync

/** Rethrows an engine error, as unavailable when the engine is closed or the disk full. */
function fail(db: PGlite, dir: string, err: unknown): never {
  // PGlite says it is closed by message only; a closed store is unavailable, by code.
  if (db.closed) throw new DatabaseUnavailableError(`the embedded database in ${dir} is closed`, 'ECONNABORTED', { cause: err })
  // A heap or index that cannot grow fails cleanly with disk_full; the engine goes on.
  if ((err as { code?: unknown }).code === '53100') throw new DatabaseUnavailableError(`no space left on device in ${dir}`, 'ENOSPC', { cause: err })
  throw err
}

function session(target: Target, db: PGlite, dir: string): Session {
  const rethrow = (err: unknown): never => fail(db, dir, err)
  return {
    lost: NEVER_LOST,
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await target.query<R>(sql, params as unknown[] | undefined).catch(rethrow)
      return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length }
    },
    async exec(sql: string) {
      await target.exec(sql).catch(rethrow)
    },
    async copyIn(table, columns, text) {
      await target.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], { blob: new Blob([text]) }).catch(rethrow)
    },
  }
}

/**
 * Opens the embedded PostgreSQL (PGlite) stored in `dataDir`, creating it on first use.
 * The directory is locked for this process first (see `lockDataDir`), and any failure to
 * create, write or open it becomes a one-line `StoreError`.
 */
export async function openPglite(dataDir: string): Promise<Db> {
  const dir = resolve(dataDir)
  try {
    mkdirSync(dir, { recursive: true })
    accessSync(dir, constants.W_OK)
  } catch (err) {
    throw new StoreError(`cannot use ${dir} for the embedded database (TWAP_DATA_DIR): ${(err as Error).message}`)
  }
  const release = lockDataDir(dir)
  const pgdata = resolve(dir, 'pgdata')
  openEngines.set(pgdata, { dir, release })
  let pg: PGlite
  try {
    pg = await PGlite.create(pgdata, { parsers })
    await pg.exec(`SET TIME ZONE 'UTC'`)
  } catch (err) {
    openEngines.delete(pgdata)
    release()
    // A full disk fails the start-up's writes with errors that look like damage.
    const free = freeBytes(dir)
    if (free < LOW_SPACE_BYTES) {
      throw new StoreError(`the embedded database in ${dir} cannot be opened: no space left on device in ${dir} (${mib(free)} free); free some space and start again`)
    }
    throw new StoreError(`the embedded database in ${dir} cannot be opened (is it damaged? move it away to start afresh): ${(err as Error).message}`)
  }
  const root = session(pg, pg, dir)
  let closed = false
  // Only this process can write the directory (it holds the lock), and every commit that
  // moves the version on notifies `data_version` before the committing query returns, so
  // a copy of the version is exact until that notification drops it; a query on the
  // engine costs about a millisecond, the copy nothing.
  let version: Promise<string> | null = null
  const unlisten = await pg.listen('data_version', () => {
    version = null
  })
  return {
    engine: 'pglite',
    location: `embedded database in ${dir}`,
    dataDir: dir,
    dataVersion() {
      if (!version) {
        const read = readDataVersion(root)
        version = read
        read.catch(() => {
          if (version === read) version = null
        })
      }
      return version
    },
    query: root.query,
    exec: root.exec,
    async transaction(fn) {
      const free = freeBytes(dir)
      if (free < LOW_SPACE_BYTES) {
        throw new DatabaseUnavailableError(`no space left on device in ${dir}: ${mib(free)} free, a write needs ${mib(LOW_SPACE_BYTES)}`, 'ENOSPC')
      }
      return pg.transaction((tx) => fn(session(tx, pg, dir))).catch((err: unknown) => fail(pg, dir, err))
    },
    // PGlite has a single session; queries and transactions from one process queue on it.
    withSession: (fn) => fn(root),
    async close() {
      if (closed) return
      closed = true
      try {
        await unlisten().catch(() => {})
        await pg.close()
      } finally {
        openEngines.delete(pgdata)
        release()
      }
    },
  }
}
