/**
 * Single-client API measurements: walking every page of a wallet by `next_cursor`, and
 * streaming a CSV export while watching the server's memory.
 */

import { percentile } from './load-test.ts'
import type { Server } from './process.ts'
import { twapsPath } from './workload.ts'

export interface PageWalk {
  pages: number
  twaps: number
  /** Medians of repeated requests at several depths through the walk, ms. */
  depths: { page: number; ms: number }[]
  /** Over the walk itself, one request per page: the median, 95th percentile and slowest page, ms. */
  medianMs: number
  p95Ms: number
  slowestMs: number
}

/** Where through the walk pages are timed again (0 the first page, 1 the last). */
const DEPTHS = [0, 0.25, 0.5, 0.75, 1]
/** Repeats at each depth whose median is reported. */
const REPEATS = 5

/**
 * Requests every page of `wallet` in [start, end] (the default page size), following
 * `next_cursor`, timing each until its body has arrived; then times pages at `DEPTHS`
 * through the walk again, `REPEATS` times each. The first page is requested once before
 * the walk, so no page pays for opening a database connection.
 */
export async function walkPages(baseUrl: string, wallet: string, start: string, end: string): Promise<PageWalk> {
  await timedGet(baseUrl + twapsPath(wallet, start, end))
  const paths: string[] = []
  const times: number[] = []
  let twaps = 0
  let cursor: string | null = null
  do {
    const path = twapsPath(wallet, start, end, cursor ? { cursor } : {})
    const { ms, body } = await timedGet(baseUrl + path)
    const page = JSON.parse(body) as { twaps: unknown[]; next_cursor: string | null }
    paths.push(path)
    times.push(ms)
    twaps += page.twaps.length
    cursor = page.next_cursor
  } while (cursor)
  const depths: PageWalk['depths'] = []
  for (const index of new Set(DEPTHS.map((d) => Math.round(d * (paths.length - 1))))) {
    depths.push({ page: index + 1, ms: await medianGet(baseUrl + paths[index]) })
  }
  const sorted = [...times].sort((a, b) => a - b)
  return {
    pages: paths.length,
    twaps,
    depths,
    medianMs: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    slowestMs: sorted[sorted.length - 1] as number,
  }
}

/** The median time of `REPEATS` GETs of `url`, ms. */
export async function medianGet(url: string): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < REPEATS; i++) times.push((await timedGet(url)).ms)
  return percentile(times.sort((a, b) => a - b), 0.5)
}

/** Latency of sequential single requests, ms. */
export interface Latency {
  p50: number
  p99: number
  requests: number
}

/** `requests` GETs of `url` one after the other, each timed until its body has arrived. */
export async function sequentialLatency(url: string, requests: number): Promise<Latency> {
  const times: number[] = []
  for (let i = 0; i < requests; i++) times.push((await timedGet(url)).ms)
  times.sort((a, b) => a - b)
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99), requests }
}

/** GET `url` and read its whole body; throws on a non-2xx answer. */
export async function timedGet(url: string): Promise<{ ms: number; body: string }> {
  const started = performance.now()
  const response = await fetch(url, { headers: { 'accept-encoding': 'identity' } })
  const body = await response.text()
  const ms = performance.now() - started
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}: ${body.slice(0, 500)}`)
  return { ms, body }
}

export interface ExportRun {
  seconds: number
  bytes: number
  /** Data lines (TWAPs), header excluded. */
  lines: number
  /** Server memory just before the export and its peak during it, bytes. */
  rssBefore: number
  peakRss: number
  /** False when the kernel would not reset the peak: it is then the peak since the server started. */
  peakIsOwn: boolean
  /** Why the export did not complete (the server answered an error or broke off); null when it did. */
  error: string | null
}

/**
 * Downloads the CSV export of `wallet` in [start, end], counting bytes and lines as they
 * stream in (never holding the body), and reads the server's peak RSS over the download.
 * A failed or broken-off export is returned with its `error`, not thrown.
 */
export async function exportCsv(server: Server, wallet: string, start: string, end: string): Promise<ExportRun> {
  const rssBefore = server.rss()
  const peakIsOwn = server.resetPeak()
  const started = performance.now()
  let bytes = 0
  let newlines = 0
  let error: string | null = null
  try {
    // Uncompressed, as psql writes it: the rate is the export's, not zlib's.
    const response = await fetch(server.url + twapsPath(wallet, start, end, { format: 'csv' }), { headers: { 'accept-encoding': 'identity' } })
    if (!response.ok || !response.body) throw new Error(`the server answered ${response.status}`)
    for await (const chunk of response.body) {
      const data = chunk as Uint8Array
      bytes += data.length
      for (let i = data.indexOf(10); i !== -1; i = data.indexOf(10, i + 1)) newlines++
    }
  } catch (err) {
    error = (err as Error).message
  }
  const seconds = (performance.now() - started) / 1000
  return { seconds, bytes, lines: Math.max(0, newlines - 1), rssBefore, peakRss: server.peakRss(), peakIsOwn, error }
}
