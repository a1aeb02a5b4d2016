import type { Config } from '#src/config.ts'

export type Engine = 'postgres' | 'pglite'

export interface QueryResult<R> {
  rows: R[]
  /** Rows affected by INSERT/UPDATE/DELETE, or returned by SELECT. */
  rowCount: number
}

/** How one statement runs. */
export interface QueryOptions {
  /**
   * Planned for its parameters on every call. PostgreSQL runs a prepared statement with a
   * generic plan, made for no parameter in particular, after five calls when that plan seems
   * no dearer; for an aggregate over one wallet's events that plan suits the typical wallet
   * and scans the whole table for the largest (a fifth of it).
   */
  planPerCall?: boolean
}

/**
 * What every caller of the store needs: parameterised SQL and multi-statement scripts.
 * Both engines return NUMERIC, INT8 and TIMESTAMPTZ columns as their PostgreSQL text
 * (`'950.25'`, `'2025-11-03 12:30:00.5+00'`) so decimals stay exact and the two engines
 * give byte-identical answers; sessions run in UTC.
 */
export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<QueryResult<R>>
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>
}

/** A transaction, or a session held for a while: it can also bulk-load with COPY. */
export interface Session extends Queryable {
  /**
   * Aborted, with the error as its reason, when the session's connection is lost: whatever
   * the session held on the server (a session-level advisory lock) is gone with it.
   */
  readonly lost: AbortSignal
  /**
   * Loads rows given in PostgreSQL's COPY text format (tab-separated, `\N` for NULL, one
   * row a line) into `table (columns)`. Table and column names are constants of ours,
   * never user input.
   */
  copyIn(table: string, columns: readonly string[], text: string): Promise<void>
}

/** Reads of one consistent view of the data: none of them sees a commit made after it opened. */
export interface Snapshot extends Queryable {
  /** Ends the view and gives its connection back; safe to call twice. */
  close(): Promise<void>
}

/** An open database, PostgreSQL or the embedded engine, with the same SQL on both. */
export interface Db extends Queryable {
  readonly engine: Engine
  /** Where the data lives, for logs and errors (passwords hidden). */
  readonly location: string
  /** The embedded engine's data directory (absolute), the one its lock holds; undefined on PostgreSQL. */
  readonly dataDir?: string
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Session) => Promise<T>): Promise<T>
  /** Runs `fn` on one dedicated connection, e.g. to hold a session-level advisory lock. */
  withSession<T>(fn: (session: Session) => Promise<T>): Promise<T>
  /**
   * PostgreSQL only: a read-only transaction of its own connection, for an answer read in
   * many queries (an export). The embedded engine has one connection, which a transaction
   * held for as long as a client downloads would keep from every other request.
   */
  snapshot?(): Promise<Snapshot>
  /**
   * The data version (see `readDataVersion`): the same text exactly while no ingest has
   * committed, so answers can be tagged with it. Never older than the last commit that
   * finished before the call.
   */
  dataVersion(): Promise<string>
  close(): Promise<void>
}

/** A database that cannot be opened: the message is one line a user can act on. */
export class StoreError extends Error {
  override name = 'StoreError'
}

/** The database is held by another process (the embedded engine's lock). */
export class BusyError extends StoreError {
  override name = 'BusyError'
}

export interface OpenOptions {
  /** Shown in PostgreSQL's `pg_stat_activity`, so a busy ETL can name its holder. */
  applicationName?: string
  /** PostgreSQL connections at most (default 10); the ETL holds one per object in flight. */
  poolSize?: number
  /** A read replica: longest to wait for it to replay the schema's migrations (default a minute). */
  schemaWaitMs?: number
}

/** The store's part of the configuration; `database` defaults to `DEFAULT_TIMEOUTS`. */
export type StoreConfig = Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'database'>>

/** Converts PostgreSQL's timestamptz text (UTC session) to ISO-8601 with a `Z`. */
export function isoFromPg(text: string): string
export function isoFromPg(text: string | null): string | null
export function isoFromPg(text: string | null): string | null {
  if (text === null) return null
  return text.replace(' ', 'T').replace(/\+00(:00)?$/, 'Z')
}
