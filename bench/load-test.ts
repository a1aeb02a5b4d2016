/**
 * Throughput and latency under concurrent load: autocannon against an HTTP URL, and
 * pgbench running one SQL statement, reported in the same shape so they can be compared.
 */

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { watchBackendCpu, type WatchedDb } from './backend-cpu.ts'
import { runMeasured, type Finished, type Server } from './process.ts'

export interface LoadResult {
  requestsPerSecond: number
  /** Latency percentiles, milliseconds. */
  p50: number
  p99: number
  requests: number
  /**
   * CPU milliseconds per request of the load generator (start-up included), the API
   * server and the PostgreSQL backends of the database; null where not measured.
   */
  cpuMs: { generator: number | null; server: number | null; db: number | null }
}

/** Whose CPU to count during a load test besides the load generator's. */
export interface Observed {
  server?: Server
  db?: WatchedDb
}

const AUTOCANNON = resolve('node_modules/autocannon/autocannon.js')

/** Shape of `autocannon --json` that is read here. */
interface AutocannonJson {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number }
  errors: number
  timeouts: number
  non2xx: number
  '3xx'?: number
}

/** What to send and accept besides a plain GET. */
export interface LoadRequest {
  headers?: Record<string, string>
  /** Count 304 answers (a conditional request's) as successes. */
  notModified?: boolean
}

/**
 * `autocannon -c connections -d duration url` in its own process (so its work is not
 * counted against this one). Throws when any request failed or answered non-2xx.
 */
export async function autocannon(url: string, connections: number, duration: number, observed: Observed = {}, request: LoadRequest = {}): Promise<LoadResult> {
  const headers = Object.entries(request.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}=${value}`])
  const args = [AUTOCANNON, '-c', String(connections), '-d', String(duration), ...headers, '--json', url]
  const { run, cpuMs } = await observe(observed, () => runMeasured(process.execPath, args, { env: process.env, cwd: process.cwd() }))
  const result = JSON.parse(run.stdout) as AutocannonJson
  const failed = request.notModified ? result.non2xx - (result['3xx'] ?? 0) : result.non2xx
  if (request.notModified && !result['3xx']) throw new Error(`autocannon ${url}: no 304 answer`)
  if (result.errors || result.timeouts || failed) {
    throw new Error(`autocannon ${url}: ${result.errors} errors, ${result.timeouts} timeouts, ${result.non2xx} non-2xx answers`)
  }
  const requests = result.requests.total
  return { requestsPerSecond: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, requests, cpuMs: cpuMs(requests) }
}

/**
 * `pgbench -n -M extended` (or `-M prepared`: parsed and planned once per client) running `sql` with its `$n` parameters bound to `params` (as
 * the driver binds them: one parse, bind and execute per query), `connections` clients on
 * one thread like autocannon's, for `duration` seconds. Latencies come from pgbench's
 * per-transaction log.
 */
export async function pgbench(db: WatchedDb & { url: string }, sql: string, params: readonly unknown[], connections: number, duration: number, mode: 'extended' | 'prepared' = 'extended'): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'hltwap-pgbench-'))
  try {
    const { script, defines } = pgbenchScript(sql, params)
    const scriptPath = join(dir, 'query.sql')
    await writeFile(scriptPath, script)
    const args = ['-n', '-M', mode, '-c', String(connections), '-j', '1', '-T', String(duration),
      '-f', scriptPath, '-l', `--log-prefix=${join(dir, 'log')}`, ...defines.flatMap((d) => ['-D', d]), db.url]
    const { run, cpuMs } = await observe({ db }, () => runMeasured('pgbench', args, { env: process.env, cwd: dir }))
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(run.stdout)?.[1] ?? NaN)
    const failed = Number(/number of failed transactions: (\d+)/.exec(run.stdout)?.[1] ?? 0)
    if (!Number.isFinite(tps) || failed > 0) throw new Error(`pgbench failed:\n${run.stdout}\n${run.stderr}`)
    const latencies = await transactionLatencies(dir)
    return { requestsPerSecond: tps, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), requests: latencies.length, cpuMs: cpuMs(latencies.length) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Runs a load generator while counting the CPU of the server and the database it loads. */
async function observe(observed: Observed, fn: () => Promise<Finished>): Promise<{ run: Finished; cpuMs: (requests: number) => LoadResult['cpuMs'] }> {
  const serverBefore = observed.server?.cpuSeconds() ?? null
  const watch = observed.db ? await watchBackendCpu(observed.db) : undefined
  let run: Finished
  try {
    run = await fn()
  } catch (err) {
    await watch?.stop()
    throw err
  }
  const db = watch ? await watch.stop() : null
  const serverAfter = observed.server?.cpuSeconds() ?? null
  const server = serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore
  const perRequest = (seconds: number | null, requests: number) => (seconds === null || requests === 0 ? null : (seconds * 1000) / requests)
  return {
    run,
    cpuMs: (requests) => ({ generator: perRequest(run.cpuSeconds, requests), server: perRequest(server, requests), db: perRequest(db, requests) }),
  }
}

/**
 * The statement as a pgbench script: `$n` becomes the variable `:pn`, given with `-D`, so
 * pgbench sends it as a bound parameter; a null parameter (which `-D` cannot express)
 * becomes the literal NULL.
 */
export function pgbenchScript(sql: string, params: readonly unknown[]): { script: string; defines: string[] } {
  const defines: string[] = []
  params.forEach((value, i) => { if (value !== null && value !== undefined) defines.push(`p${i + 1}=${String(value)}`) })
  const body = sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1]
    return value === null || value === undefined ? 'NULL' : `:p${n}`
  })
  // One line: comments dropped, since joining lines would comment out the rest.
  return { script: body.replace(/--[^\n]*/g, '').trim().replace(/\s*\n\s*/g, ' ') + ';\n', defines }
}

/** Per-transaction latencies (ms) from pgbench's `-l` files: the third field, in µs. */
async function transactionLatencies(dir: string): Promise<number[]> {
  const latencies: number[] = []
  for (const name of await readdir(dir)) {
    if (!name.startsWith('log')) continue
    for (const line of (await readFile(join(dir, name), 'utf8')).split('\n')) {
      const field = line.split(' ')[2]
      if (field) latencies.push(Number(field) / 1000)
    }
  }
  return latencies.sort((a, b) => a - b)
}

/** The `q` quantile of sorted values (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number
}
