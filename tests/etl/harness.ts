/**
 * What every ETL test needs: the local requester-pays S3 server, one store on the suite's
 * engine shared by the tests of a file (emptied before each test, since creating a store
 * costs seconds on the embedded engine), a scratch directory, and two ways to run the
 * ETL — in this process through `runEtl`, or as `hl-twap etl` in a child process with an
 * environment built from scratch.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest'
import type { Config } from '#src/config.ts'
import { runEtl, type EtlOptions, type EtlReporter, type EtlSummary, type ObjectResult } from '#src/etl/run.ts'
import { createS3Client, type S3ClientOptions } from '#src/source/s3-client.ts'
import type { Db } from '#src/store/db.ts'
import { bucketConfig, bucketEnv, PREFIX } from '../support/bucket.ts'
import { runCli, startCli, type CliProcess } from '../support/cli.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import type { LogLine } from '../support/log.ts'
import { makeEvents, writeTwapParquet, type SourceEvent, type TwapParquetOptions } from '../support/parquet.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

export { PREFIX }
export { until } from '../support/log.ts'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const silent = pino({ level: 'silent' })

/** One TWAP (an `activated` and a closing event) per `n`, never colliding with another `n`. */
export function oneTwap(n: number): SourceEvent[] {
  return makeEvents({ seed: n + 1, firstTwapId: 1_000_000 + n, wallets: 1, twapsPerWallet: 1, runningShare: 0 })
}

/** `count` TWAPs of one wallet, two events each, with ids from `firstTwapId` on. */
export function twaps(firstTwapId: number, count: number): SourceEvent[] {
  return makeEvents({ seed: firstTwapId, firstTwapId, wallets: 1, twapsPerWallet: count, runningShare: 0 })
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CliOptions {
  /** Variables added to (or, when undefined, removed from) the child's environment. */
  env?: Record<string, string | undefined>
  cwd?: string
  /**
   * Leave the embedded store as it is: open in this process (so the child cannot open it),
   * or already closed by `released`. By default it is closed for the child and reopened
   * after, since the embedded engine admits one process at a time.
   */
  keepStore?: boolean
}

export interface LogRow {
  key: string
  rows_ingested: number
  rows_duplicate: number
  rows_rejected: number
  error_text: string | null
  etag: string | null
}

export interface EtlHarness {
  readonly server: S3TestServer
  readonly store: TestStore
  readonly db: Db
  /** The configuration a run uses: the test bucket, prefix and endpoint. */
  readonly config: Config
  /** A fresh scratch directory per test. */
  readonly dir: string
  /** Writes `events` as parquet under the prefix and returns the key and its size. */
  putEvents(name: string, events: readonly SourceEvent[], options?: TwapParquetOptions, lastModified?: Date): Promise<{ key: string; size: number }>
  /** Stores arbitrary bytes under the prefix and returns the key. */
  putBytes(name: string, body: Uint8Array | string): string
  /** `runEtl` in this process (incremental unless `options.source` says otherwise). */
  run(options?: Partial<EtlOptions>, extra?: { s3?: S3ClientOptions; db?: Db; reporter?: EtlReporter }): Promise<EtlSummary>
  /** Like `run`, also returning each object's result as the reporter heard it. */
  runReported(options?: Partial<EtlOptions>): Promise<{ summary: EtlSummary; results: Map<string, ObjectResult> }>
  /** Starts `hl-twap <args>` as a child process against the store and the S3 server. */
  startCli(args: string[], options?: Omit<CliOptions, 'keepStore'>): CliProcess
  /** Runs `hl-twap <args>` to its end. */
  cli(args: string[], options?: CliOptions): Promise<CliResult>
  /** Runs `fn` with the embedded store closed, so child processes can open it; reopens it after. */
  released<T>(fn: () => Promise<T>): Promise<T>
  countRows(db?: Db): Promise<number>
  /** The ingest log, in byte order of the keys. */
  ingestLog(db?: Db): Promise<LogRow[]>
  /** Row count and an md5 over every stored column of every event, in event-key order. */
  digest(db?: Db): Promise<{ rows: number; md5: string }>
  /** GET requests the server has seen since the last `server.reset()`. */
  gets(key?: string): number
}

/**
 * Registers the hooks of an ETL test file in the calling `describe` and returns the
 * harness its tests use.
 */
export function useEtlHarness(): EtlHarness {
  let server: S3TestServer | undefined
  let store: TestStore | undefined
  let config: Config | undefined
  let dir = ''

  beforeAll(async () => {
    server = await startS3Server({ bucket: 'artemis-etl-test' })
    store = await createTestStore()
    config = bucketConfig(server)
  })
  afterAll(async () => {
    await store?.destroy()
    await server?.close()
  })
  beforeEach(async () => {
    server!.reset()
    await store!.db.exec('TRUNCATE twap_status, twap_status_object, twap_fill, twap_fill_object, ingest_coverage, twap_reconciliation, etl_s3_ingest_log')
    dir = await mkdtemp(join(tmpdir(), 'hltwap-etl-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  const dbOf = (db?: Db) => db ?? store!.db

  /** The bucket, the store and info-level JSON logs; nothing of this process's own environment. */
  const cliEnv = (extra: CliOptions['env'] = {}): Record<string, string | undefined> => ({
    ...bucketEnv(server!),
    LOG_LEVEL: 'info',
    ...(engine === 'postgres' ? { DATABASE_URL: store!.env.DATABASE_URL } : { TWAP_DATA_DIR: store!.env.TWAP_DATA_DIR }),
    ...extra,
  })

  const harness: EtlHarness = {
    get server() { return server! },
    get store() { return store! },
    get db() { return store!.db },
    get config() { return config! },
    get dir() { return dir },

    async putEvents(name, events, options, lastModified) {
      const bytes = new Uint8Array(await writeTwapParquet(events, options))
      server!.putObject(PREFIX + name, bytes, { lastModified })
      return { key: PREFIX + name, size: bytes.length }
    },
    putBytes(name, body) {
      server!.putObject(PREFIX + name, body)
      return PREFIX + name
    },

    async run(options = {}, extra = {}) {
      const s3 = createS3Client(config!.s3, { credentials, ...extra.s3 })
      try {
        return await runEtl(
          { db: dbOf(extra.db), config: config!, logger: silent, s3, reporter: extra.reporter },
          { source: { kind: 'incremental' }, ...options },
        )
      } finally {
        s3.destroy()
      }
    },
    async runReported(options = {}) {
      const results = new Map<string, ObjectResult>()
      const reporter: EtlReporter = {
        planned() {}, bytes() {}, rows() {}, finished() {},
        objectDone(result) { results.set(result.key, result) },
      }
      return { summary: await harness.run(options, { reporter }), results }
    },

    startCli(args, options = {}) {
      return startCli(args, { cwd: options.cwd, env: cliEnv(options.env) })
    },
    cli(args, options = {}) {
      const run = () => runCli(args, { cwd: options.cwd, env: cliEnv(options.env) })
      return options.keepStore ? run() : harness.released(run)
    },
    async released(fn) {
      if (engine !== 'pglite') return fn()
      await store!.close()
      try {
        return await fn()
      } finally {
        await store!.reopen()
      }
    },

    async countRows(db) {
      const { rows } = await dbOf(db).query<{ n: number }>('SELECT count(*)::int AS n FROM twap_status')
      return rows[0]!.n
    },
    async ingestLog(db) {
      const { rows } = await dbOf(db).query<LogRow>(
        `SELECT s3_object_key AS key, rows_ingested, rows_duplicate, rows_rejected, error_text, etag
           FROM etl_s3_ingest_log ORDER BY s3_object_key COLLATE "C"`)
      return rows
    },
    async digest(db) {
      const { rows } = await dbOf(db).query<{ rows: number; md5: string }>(
        `SELECT count(*)::int AS rows,
                md5(coalesce(string_agg(concat_ws('|', twap_id, wallet, ts, asset, side, size_requested, size_executed,
                                                  notional_executed, status, duration_minutes, placed_at, reduce_only,
                                                  randomize, s3_object_key, raw_payload::text), E'\\n'
                                        ORDER BY twap_id, ts, status, size_executed), '')) AS md5
           FROM twap_status`)
      return rows[0]!
    },
    gets(key) {
      return server!.count('get', key)
    },
  }
  return harness
}

/** The JSON log lines a CLI child wrote to stderr (pino, since stderr is not a terminal). */
export function logLines(stderr: string): LogLine[] {
  return stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as LogLine)
}
