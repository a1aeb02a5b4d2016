import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { redact } from '#src/config.ts'
import { sharedDataVersion } from './data-version.ts'
import { StoreError, type Db, type QueryOptions, type QueryResult, type Session, type Snapshot } from './db.ts'
import { DatabaseUnavailableError } from './unavailable.ts'

const { Pool, types } = pg

/** Types kept as PostgreSQL text so that decimals, 64-bit integers and microseconds stay exact. */
const TEXT_TYPES = new Set<number>([types.builtins.NUMERIC, types.builtins.INT8, types.builtins.TIMESTAMPTZ, types.builtins.TIMESTAMP, types.builtins.DATE])

const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid) ? (value: string) => value : types.getTypeParser(oid, format as 'text')) as typeof types.getTypeParser,
}

/** Statement names by SQL text, so each text is hashed once per process. */
const statementNames = new Map<string, string>()

/**
 * The name a parameterised statement is prepared under: a digest of its text. pg parses a
 * named statement once per connection and then only binds and executes it, so PostgreSQL
 * plans the API's reads once per connection instead of on every request (an unnamed
 * statement is parsed, analysed and planned each time; for the typical wallet page that
 * is most of the database's work). Every SQL text here is a constant of the store's
 * modules, so the names are few; statements without parameters (scripts, DDL) stay unnamed.
 */
export function statementName(sql: string): string {
  let name = statementNames.get(sql)
  if (name === undefined) {
    name = 's_' + createHash('sha1').update(sql).digest('hex').slice(0, 24)
    statementNames.set(sql, name)
  }
  return name
}

function prepared(sql: string, params: readonly unknown[] | undefined, options?: QueryOptions): pg.QueryConfig {
  if (params === undefined) return { text: sql }
  // An unnamed statement is planned with its parameters each time it runs.
  return options?.planPerCall ? { text: sql, values: params as unknown[] } : { name: statementName(sql), text: sql, values: params as unknown[] }
}

function session(client: pg.PoolClient, lost: AbortSignal): Session {
  return {
    lost,
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
      const result = await client.query(prepared(sql, params, options)).catch(rethrow)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await client.query(sql).catch(rethrow)
    },
    async copyIn(table, columns, text) {
      const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`))
      await pipeline(Readable.from([text]), stream).catch(rethrow)
    },
  }
}

export interface PostgresTimeouts {
  /**
   * Longest a statement of `Db.query` (the API's reads) may take: sent to the server as
   * `statement_timeout`, and enforced here too, a second later, for a server that does not
   * answer at all (frozen, or cut off by the network) and so cannot enforce its own.
   */
  statementTimeoutMs: number
  /** Longest to wait for a connection, new (TCP and start-up) or from the busy pool. */
  connectTimeoutMs: number
}

export const DEFAULT_TIMEOUTS: PostgresTimeouts = { statementTimeoutMs: 5_000, connectTimeoutMs: 5_000 }

/** How much later than the server's statement timeout the client gives up on a statement. */
const CLIENT_GRACE_MS = 1_000

/**
 * Longest a snapshot may wait between two reads before the server ends it: a client that
 * stops reading an export must not keep a transaction open (and old row versions from
 * being vacuumed) for as long as its connection stays up.
 */
const SNAPSHOT_IDLE_MS = 300_000

/**
 * Opens a connection pool on `url` and checks that the server answers, so an unreachable
 * database is reported at start-up in one line rather than at the first request.
 */
export async function openPostgres(url: string, applicationName: string, poolSize = 10, timeouts: PostgresTimeouts = DEFAULT_TIMEOUTS): Promise<Db> {
  const location = `PostgreSQL at ${redact(url)}`
  const pool = new Pool({
    connectionString: url,
    application_name: applicationName,
    options: '-c TimeZone=UTC',
    types: typeParsers,
    max: poolSize,
    connectionTimeoutMillis: timeouts.connectTimeoutMs,
    statement_timeout: timeouts.statementTimeoutMs,
    // A connection whose server vanished without a word (a partition) is noticed by TCP.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    // A new connection costs ~100 ms of the first request made on it; keep idle ones longer
    // than pg's 10 s so a quiet API does not pay that on every burst.
    idleTimeoutMillis: 300_000,
  })
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => {})
  // pg takes a per-query read timeout its type declarations do not list.
  const timed = (text: string, values?: readonly unknown[], options?: QueryOptions): pg.QueryConfig => {
    const config: pg.QueryConfig & { query_timeout: number } = { ...prepared(text, values, options), query_timeout: timeouts.statementTimeoutMs + CLIENT_GRACE_MS }
    return config
  }
  try {
    await pool.query(timed('SELECT 1'))
  } catch (err) {
    await pool.end().catch(() => {})
    throw new StoreError(`cannot connect to ${location}: ${describePgError(translate(err))}`)
  }

  /**
   * A client of its own, until `release`. pg's pool listens for errors only on idle clients:
   * a checked-out one whose server goes away between two queries (terminated, shut down)
   * emits 'error' with nobody listening, which ends the process. So the client is listened
   * to for as long as it is out, its loss aborts `lost` (the ETL lock stops its run on it),
   * and a lost connection, or one that failed with `err`, is destroyed, not reused.
   */
  async function checkOut(): Promise<{ client: pg.PoolClient; lost: AbortSignal; release(err?: Error): void }> {
    const client = await pool.connect().catch(rethrow)
    const lost = new AbortController()
    const onError = (err: Error) => lost.abort(translate(err))
    client.on('error', onError)
    let out = true
    return {
      client,
      lost: lost.signal,
      release(err) {
        if (!out) return
        out = false
        client.off('error', onError)
        client.release(lost.signal.aborted ? lost.signal.reason as Error : err && isConnectionError(err) ? err : undefined)
      },
    }
  }

  /** Runs `fn` on a client of its own (see `checkOut`). */
  async function withClient<T>(fn: (client: pg.PoolClient, lost: AbortSignal) => Promise<T>): Promise<T> {
    const { client, lost, release } = await checkOut()
    let broken: Error | undefined
    try {
      return await fn(client, lost)
    } catch (err) {
      broken = err as Error
      throw err
    } finally {
      release(broken)
    }
  }

  /** A read-only REPEATABLE READ transaction on a client of its own (see `Db.snapshot`). */
  async function snapshot(): Promise<Snapshot> {
    const { client, lost, release } = await checkOut()
    try {
      await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL idle_in_transaction_session_timeout = ${SNAPSHOT_IDLE_MS}`)
    } catch (err) {
      release(err as Error)
      rethrow(err)
    }
    const reads = session(client, lost)
    let open = true
    return {
      query: (sql, params, options) => reads.query(sql, params, options),
      exec: (sql) => reads.exec(sql),
      async close() {
        if (!open) return
        open = false
        try {
          await client.query('COMMIT')
          release()
        } catch (err) {
          release(err as Error)
        }
      },
    }
  }

  // Sessions and transactions (the ETL's loads, migrations, the ETL lock) run statements
  // that take long on purpose (a COPY of a large object, a backfill, ANALYZE): they lift
  // the statement timeout meant for the API's reads, for the transaction or the session.

  const db: Db = {
    engine: 'postgres',
    location,
    dataVersion: () => dataVersion(),
    async query<R>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>> {
      const result = await pool.query(timed(sql, params, options)).catch(rethrow)
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 }
    },
    async exec(sql: string) {
      await pool.query(timed(sql)).catch(rethrow)
    },
    transaction(fn) {
      return withClient(async (client, lost) => {
        await client.query('BEGIN; SET LOCAL statement_timeout = 0').catch(rethrow)
        try {
          const result = await fn(session(client, lost))
          await client.query('COMMIT').catch(rethrow)
          return result
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {})
          throw err
        }
      })
    },
    withSession(fn) {
      return withClient(async (client, lost) => {
        await client.query('SET statement_timeout = 0').catch(rethrow)
        try {
          return await fn(session(client, lost))
        } finally {
          await client.query('RESET statement_timeout').catch(() => {})
        }
      })
    },
    snapshot,
    async close() {
      await pool.end()
    },
  }
  // Read from the database each time (shared by concurrent callers): another process may
  // ingest at any moment, and a copy kept here could not know.
  const dataVersion = sharedDataVersion(db)
  return db
}

/**
 * pg reports a lost connection, its own read timeout, a connect timeout and a closed pool
 * by message only, with no code; these become `DatabaseUnavailableError`s with the code
 * they stand for, so callers decide by codes (`isDatabaseUnavailable`).
 */
const CODELESS: [RegExp, string][] = [
  [/^Connection terminated|^Client has encountered a connection error|^Client was closed/, 'ECONNRESET'],
  [/^Query read timeout$|^timeout exceeded when trying to connect$|^Connection terminated due to connection timeout$/, 'ETIMEDOUT'],
  [/^Cannot use a pool after calling end/, 'ECONNABORTED'],
]

function translate(err: unknown): unknown {
  if (!(err instanceof Error) || (err as { code?: unknown }).code !== undefined) return err
  const match = CODELESS.find(([pattern]) => pattern.test(err.message))
  return match ? new DatabaseUnavailableError(err.message, match[1], { cause: err }) : err
}

function rethrow(err: unknown): never {
  throw translate(err)
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
