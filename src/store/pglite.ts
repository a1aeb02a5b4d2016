import { accessSync, constants, mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { PGlite, types, type Transaction } from '@electric-sql/pglite'
import { lockDataDir } from './datadir-lock.ts'
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

function session(target: Target, db: PGlite, dir: string): Session {
  // PGlite says it is closed by message only; a closed store is unavailable, by code.
  const rethrow = (err: unknown): never => {
    if (db.closed) throw new DatabaseUnavailableError(`the embedded database in ${dir} is closed`, 'ECONNABORTED', { cause: err })
    throw err
  }
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
  let pg: PGlite
  try {
    pg = await PGlite.create(resolve(dir, 'pgdata'), { parsers })
    await pg.exec(`SET TIME ZONE 'UTC'`)
  } catch (err) {
    release()
    throw new StoreError(`the embedded database in ${dir} cannot be opened (is it damaged? move it away to start afresh): ${(err as Error).message}`)
  }
  const root = session(pg, pg, dir)
  let closed = false
  return {
    engine: 'pglite',
    location: `embedded database in ${dir}`,
    query: root.query,
    exec: root.exec,
    transaction: (fn) => pg.transaction((tx) => fn(session(tx, pg, dir))),
    // PGlite has a single session; queries and transactions from one process queue on it.
    withSession: (fn) => fn(root),
    async close() {
      if (closed) return
      closed = true
      try {
        await pg.close()
      } finally {
        release()
      }
    },
  }
}
