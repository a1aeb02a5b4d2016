/**
 * The command line of `npm run bench`. Full mode (default) ingests a million rows and
 * loads the API for 3 rounds of 5 s per measurement; `--quick` is the CI variant (20,000 rows, 2 s).
 */

import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

export interface BenchOptions {
  quick: boolean
  rows: number
  /** Parquet files the rows are split across. */
  files: number
  seed: number
  /** HTTP connections of autocannon, and pgbench clients. */
  connections: number
  /** Seconds per autocannon / pgbench measurement. */
  duration: number
  /** The `--concurrency` of the second S3 ingest (the first uses 1). */
  concurrency: number
  /** PostgreSQL server the throwaway databases are created on. */
  adminUrl: string
  /** Where RESULTS.md goes. */
  out: string
  /** LOG_LEVEL of the API server under load. */
  logLevel: string
  /** Skip the embedded engine (it takes longest). */
  skipEmbedded: boolean
}

const USAGE = `usage: npm run bench -- [--quick] [--rows N] [--files N] [--seed N] [--connections N]
                       [--duration SEC] [--concurrency N] [--admin-url URL] [--out FILE]
                       [--log-level LEVEL] [--skip-embedded]`

/** Parses `argv` (without node and script); throws with the usage text on a bad flag. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      quick: { type: 'boolean', default: false },
      rows: { type: 'string' },
      files: { type: 'string' },
      seed: { type: 'string', default: '1' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string' },
      concurrency: { type: 'string', default: String(Math.max(4, availableParallelism() * 2)) },
      'admin-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test' },
      out: { type: 'string', default: 'bench/RESULTS.md' },
      'log-level': { type: 'string', default: 'warn' },
      'skip-embedded': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) throw new Error(USAGE)
  const quick = values.quick
  const rows = positive('--rows', values.rows ?? (quick ? '20000' : '1000000'))
  return {
    quick,
    rows,
    files: positive('--files', values.files ?? String(Math.min(200, Math.max(8, Math.round(rows / 5000))))),
    seed: positive('--seed', values.seed),
    connections: positive('--connections', values.connections),
    duration: positive('--duration', values.duration ?? (quick ? '2' : '5')),
    concurrency: positive('--concurrency', values.concurrency),
    adminUrl: values['admin-url'],
    out: values.out,
    logLevel: values['log-level'],
    skipEmbedded: values['skip-embedded'],
  }
}

function positive(flag: string, value: string): number {
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${flag} must be a positive whole number (got ${value})\n${USAGE}`)
  return n
}
