/**
 * The API measurements on an ingested PostgreSQL database: the typical wallet query under
 * load beside pgbench running the same SQL, the largest wallet's pages at every depth, and
 * CSV exports of growing size with the server's memory.
 */

import type { WatchedDb } from './backend-cpu.ts'
import { startBareServer } from './bare.ts'
import { copyOut, type CopyOutRun } from './copy-out.ts'
import { measureDuringExports, yearExportPath, type DuringExports } from './during-exports.ts'
import type { BenchOptions } from './options.ts'
import { exportCsv, medianGet, sequentialLatency, walkPages, type ExportRun, type Latency, type PageWalk } from './pages.ts'
import { autocannon, pgbench, type LoadResult } from './load-test.ts'
import { startServer, type Server } from './process.ts'
import { firstPageStatement, summaryPath, summaryRequests, twapsPath, type Workload } from './workload.ts'

export interface ApiResults {
  /** The typical wallet query over HTTP, and its SQL run by pgbench: the median round of each. */
  http: LoadResult
  sql: LoadResult
  /** The same SQL with `pgbench -M prepared`: parsed and planned once per client. */
  sqlPrepared: LoadResult
  /** A bare Fastify route answering the typical query's body. */
  bare: LoadResult
  /** The typical query again with `If-None-Match` of its ETag: 304s. */
  notModified: LoadResult
  /** Bytes of the typical query's body. */
  bodyBytes: number
  /** The largest wallet's year as CSV and `psql \copy` of its query, alternated: the median run of each. */
  yearExport: ExportRun
  copyOut: CopyOutRun
  rounds: number
  /** Single requests of the typical query, median ms. */
  typicalMs: number
  pages: PageWalk
  /** The largest wallet's year summary, sequential requests after a warm-up. */
  summary: Latency
  /** The typical wallet's year, then the largest wallet's over growing ranges. */
  exports: LabelledExport[]
  /** The probe and the typical query while clients export the largest wallet's year. */
  duringExports: DuringExports
  /** The largest wallet's smallest and largest export again, on a server whose heap is capped. */
  capped: { heapMb: number; exports: LabelledExport[] }
}

export type LabelledExport = ExportRun & { label: string; end: string }

/** Requests sent before measuring, so the server's code and the database's pages are warm. */
const WARM_UP_REQUESTS = 20

/**
 * V8 heap cap (old space, MB) of the second export server. V8 collects old garbage lazily,
 * so an uncapped server's RSS grows with the bytes it has produced even when what it keeps
 * is bounded; under a cap that would fail an export that buffers, a year of the largest
 * wallet streaming with the same peak as an eighth of it shows the memory is constant.
 */
const CAPPED_HEAP_MB = 64

/** The database the API serves: its URL, and where its backends' CPU is counted. */
export type ServedDb = WatchedDb & { url: string }

/** Runs every API measurement against `hl-twap serve` on the database `db`. */
export async function measureApi(env: NodeJS.ProcessEnv, db: ServedDb, workload: Workload, options: BenchOptions, cwd: string): Promise<ApiResults> {
  const serverEnv = { ...env, DATABASE_URL: db.url, LOG_LEVEL: options.logLevel }
  const server = await startServer(serverEnv, cwd)
  let results: Omit<ApiResults, 'capped'>
  try {
    results = await measureServer(server, db, workload, options)
  } finally {
    await server.stop()
  }
  const capped = await startServer(serverEnv, cwd, [`--max-old-space-size=${CAPPED_HEAP_MB}`])
  try {
    const plan = exportPlan(workload)
    const exports = await runExports(capped, [plan[1]!, plan[plan.length - 1]!], true)
    return { ...results, capped: { heapMb: CAPPED_HEAP_MB, exports } }
  } finally {
    await capped.stop()
  }
}

async function measureServer(server: Server, db: ServedDb, workload: Workload, options: BenchOptions): Promise<Omit<ApiResults, 'capped'>> {
  const { typical, largest, start, end } = workload
  const typicalUrl = server.url + twapsPath(typical.wallet, start, end)
  await warmUp(typicalUrl)
  // Exports first, while nothing else has raised the server's memory.
  const exports = await runExports(server, exportPlan(workload))
  const typicalMs = await medianGet(typicalUrl)
  const statement = await firstPageStatement(typical.wallet, start, end)
  const rounds = options.quick ? 1 : 3
  const first = await fetch(typicalUrl, { headers: { 'accept-encoding': 'identity' } })
  const body = await first.text()
  const etag = first.headers.get('etag')
  if (!etag) throw new Error(`GET ${typicalUrl} answered without an ETag`)
  const bare = await startBareServer(body)
  const http: LoadResult[] = []
  const sql: LoadResult[] = []
  const sqlPrepared: LoadResult[] = []
  const bareRuns: LoadResult[] = []
  const notModified: LoadResult[] = []
  try {
    // Alternated, so a burst of other work on the machine hits every side alike.
    for (let round = 0; round < rounds; round++) {
      http.push(await autocannon(typicalUrl, options.connections, options.duration, { server, db }))
      sql.push(await pgbench(db, statement.sql, statement.params, options.connections, options.duration))
      sqlPrepared.push(await pgbench(db, statement.sql, statement.params, options.connections, options.duration, 'prepared'))
      bareRuns.push(await autocannon(bare.url, options.connections, options.duration))
      notModified.push(await autocannon(typicalUrl, options.connections, options.duration, { server, db }, { headers: { 'if-none-match': etag }, notModified: true }))
    }
  } finally {
    await bare.close()
  }
  // The year's export and psql's \copy of its query side by side, alternated, so both read
  // warm caches: the exports above are the server's first, reading the largest wallet's
  // rows into PostgreSQL's buffers with the export's code not yet optimised by V8.
  const yearExports: ExportRun[] = []
  const copies: CopyOutRun[] = []
  for (let round = 0; round < rounds; round++) {
    const run = await exportCsv(server, largest.wallet, start, workload.yearEnd)
    if (run.error) throw new Error(`CSV export (largest wallet, year) failed: ${run.error}`)
    yearExports.push(run)
    copies.push(await copyOut(db.url, largest.wallet, start, workload.yearEnd, largest.twaps))
  }
  const pages = await walkPages(server.url, largest.wallet, start, end)
  const summary = await summaryLatency(server.url, workload, options)
  // Last: the export clients raise the server's memory and fill the database's cache with the largest wallet.
  const duringExports = await measureDuringExports(server, yearExportPath(largest.wallet, start, workload.yearEnd), typicalUrl, options.connections, options.duration)
  return {
    http: medianRound(http), sql: medianRound(sql), sqlPrepared: medianRound(sqlPrepared), bare: medianRound(bareRuns),
    notModified: medianRound(notModified), bodyBytes: Buffer.byteLength(body), yearExport: medianBy(yearExports), copyOut: medianBy(copies), rounds, typicalMs, pages, summary, exports, duringExports,
  }
}

interface PlannedExport {
  label: string
  wallet: string
  start: string
  end: string
}

/**
 * CSV exports, smallest first: the typical wallet's year, then the largest wallet's first
 * eighth of the data set, its first half, and its whole year.
 */
function exportPlan(workload: Workload): PlannedExport[] {
  const { typical, largest, start, end, yearEnd } = workload
  const first = Date.parse(`${start}T00:00:00Z`)
  const days = (Date.parse(`${end}T00:00:00Z`) - first) / 86_400_000
  const dayAt = (fraction: number) => new Date(first + Math.ceil(days * fraction) * 86_400_000).toISOString().slice(0, 10)
  return [
    { label: 'typical wallet, year', wallet: typical.wallet, start, end: yearEnd },
    { label: 'largest wallet, first eighth', wallet: largest.wallet, start, end: dayAt(1 / 8) },
    { label: 'largest wallet, first half', wallet: largest.wallet, start, end: dayAt(1 / 2) },
    { label: 'largest wallet, year', wallet: largest.wallet, start, end: yearEnd },
  ]
}

/** The exports of `plan` in order; throws on a failed one unless `tolerateFailure`. */
async function runExports(server: Server, plan: PlannedExport[], tolerateFailure = false): Promise<LabelledExport[]> {
  const runs: LabelledExport[] = []
  for (const p of plan) {
    const run = await exportCsv(server, p.wallet, p.start, p.end)
    if (run.error && !tolerateFailure) throw new Error(`CSV export (${p.label}) failed: ${run.error}`)
    runs.push({ label: p.label, end: p.end, ...run })
  }
  return runs
}

/** The run of median duration. */
export function medianBy<R extends { seconds: number }>(runs: R[]): R {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds)
  return sorted[Math.floor((sorted.length - 1) / 2)] as R
}

function medianRound(results: LoadResult[]): LoadResult {
  const sorted = [...results].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)
  return sorted[Math.floor((sorted.length - 1) / 2)] as LoadResult
}

/** The largest wallet's summary over the export's year, after a warm-up. */
export async function summaryLatency(baseUrl: string, workload: Workload, options: BenchOptions): Promise<Latency> {
  const url = baseUrl + summaryPath(workload.largest.wallet, workload.start, workload.yearEnd)
  await warmUp(url)
  return sequentialLatency(url, summaryRequests(options.quick))
}

/** Sequential GETs of `url` before a measurement. */
export async function warmUp(url: string): Promise<void> {
  for (let i = 0; i < WARM_UP_REQUESTS; i++) {
    const response = await fetch(url)
    await response.arrayBuffer()
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`)
  }
}
