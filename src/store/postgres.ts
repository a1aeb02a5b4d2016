import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { redact } from '../config.ts'
import { StoreError, type Db, type QueryResult, type Session } from './db.ts'

const { Pool, types } = pg

/** Types kept as PostgreSQL text so that decimals, 64-bit integers and microseconds stay exact. */
const TEXT_TYPES = new Set<number>([types.builtins.NUMERIC, types.builtins.INT8, types.builtins.TIMESTAMPTZ, types.builtins.TIMESTAMP, types.builtins.DATE])

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid) ? (value: string) => value : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
}

function session(client: pg.PoolClient): Session {
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await client.query(sql, params as unknown[] | undefined)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await client.query(sql)
    },
    async copyIn(table, columns, text) {
      const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`))
      await pipeline(Readable.from([text]), stream)
    },
  }
}

/**
 * Opens a connection pool on `url` and checks that the server answers, so an unreachable
 * database is reported at start-up in one line rather than at the first request.
 */
export async function openPostgres(url: string, applicationName: string, poolSize = 10): Promise<Db> {
  const location = `PostgreSQL at ${redact(url)}`
  const pool = new Pool({
    connectionString: url,
    application_name: applicationName,
    options: '-c TimeZone=UTC',
    types: typeParsers,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    // A new connection costs ~100 ms of the first request made on it; keep idle ones longer
    // than pg's 10 s so a quiet API does not pay that on every burst.
    idleTimeoutMillis: 300_000,
  })
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {})
  try {
    await pool.query('SELECT 1')
  } catch (err) {
    await pool.end().catch(() => {})
    throw new StoreError(`cannot connect to ${location}: ${describePgError(err)}`)
  }

  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect()
    let broken: Error | undefined
    try {
      return await fn(client)
    } catch (err) {
      broken = err as Error
      throw err
    } finally {
      client.release(broken && isConnectionError(broken) ? broken : undefined)
    }
  }

  return {
    engine: 'postgres',
    location,
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      const result = await pool.query(sql, params as unknown[] | undefined)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await pool.query(sql)
    },
    transaction(fn) {
      return withClient(async (client) => {
        await client.query('BEGIN')
        try {
          const result = await fn(session(client))
          await client.query('COMMIT')
          return result
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw err
        }
      })
    },
    withSession(fn) {
      return withClient((client) => fn(session(client)))
    },
    async close() {
      await pool.end()
    },
  }
}

function isConnectionError(err: Error): boolean {
  const code = (err as { code?: string }).code ?? ''
  return !/^[0-9A-Z]{5}$/.test(code) || code.startsWith('08') || code.startsWith('57')
}

/** One line for a connection failure: the driver's code and message, no stack. */
export function describePgError(err: unknown): string {
  const e = err as { code?: string; message?: string; errors?: { message: string }[] }
  const message = e.message || e.errors?.map((x) => x.message).join('; ') || String(err)
  return e.code && !message.includes(e.code) ? `${message} (${e.code})` : message
}
