/**
 * The API while exports run: `EXPORT_CLIENTS` clients each downloading the largest
 * wallet's year as CSV again and again, while a load balancer's probe of `/healthz` and
 * then the typical query under load are measured beside them.
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { autocannon, type LoadResult } from './load-test.ts'
import type { Server } from './process.ts'
import { twapsPath } from './workload.ts'

/** Export clients at once, as in the hardening goal. */
export const EXPORT_CLIENTS = 20

export interface DuringExports {
  clients: number
  /** Exports streamed to their end, and those refused with 503 (every slot taken), while measuring. */
  completed: number
  refused: number
  /** Bytes of export received while measuring. */
  bytes: number
  seconds: number
  /** One connection polling `/healthz`, as a load balancer's probe does. */
  healthz: LoadResult
  /** The typical query at the run's connections. */
  typical: LoadResult
}

/**
 * Starts the export clients, waits until exports stream, then measures the probe and the
 * typical query one after the other while the clients go on. A client answered 503 waits
 * out its `Retry-After`, as a well-behaved client does; any other failure of an export
 * fails the measurement.
 */
export async function measureDuringExports(server: Server, exportPath: string, typicalUrl: string, connections: number, duration: number): Promise<DuringExports> {
  const stop = new AbortController()
  const counts = { completed: 0, refused: 0, bytes: 0, streaming: 0 }
  const failures: string[] = []
  const client = async () => {
    while (!stop.signal.aborted) {
      try {
        const response = await fetch(server.url + exportPath, { headers: { 'accept-encoding': 'identity' }, signal: stop.signal })
        if (response.status === 503) {
          await response.arrayBuffer()
          counts.refused++
          // Cut short (rejected) when the measurement stops.
          await sleep(Number(response.headers.get('retry-after') ?? 1) * 1000, undefined, { signal: stop.signal }).catch(() => {})
          continue
        }
        if (!response.ok || !response.body) throw new Error(`the server answered ${response.status}`)
        counts.streaming++
        try {
          for await (const chunk of response.body) counts.bytes += (chunk as Uint8Array).length
        } finally {
          counts.streaming--
        }
        counts.completed++
      } catch (err) {
        if (!stop.signal.aborted) failures.push((err as Error).message)
        return
      }
    }
  }
  const clients = Array.from({ length: EXPORT_CLIENTS }, client)
  try {
    const until = Date.now() + 30_000
    while (counts.streaming === 0 && failures.length === 0 && Date.now() < until) await sleep(50)
    if (counts.streaming === 0) throw new Error(`no export started streaming: ${failures[0] ?? 'none within 30 s'}`)
    const before = { ...counts, at: performance.now() }
    const healthz = await autocannon(`${server.url}/healthz`, 1, duration)
    const typical = await autocannon(typicalUrl, connections, duration)
    if (failures.length > 0) throw new Error(`an export failed while measuring: ${failures[0]}`)
    return {
      clients: EXPORT_CLIENTS,
      completed: counts.completed - before.completed,
      refused: counts.refused - before.refused,
      bytes: counts.bytes - before.bytes,
      seconds: (performance.now() - before.at) / 1000,
      healthz,
      typical,
    }
  } finally {
    stop.abort()
    await Promise.all(clients)
  }
}

/** The largest wallet's year export, the one the clients download. */
export function yearExportPath(wallet: string, start: string, yearEnd: string): string {
  return twapsPath(wallet, start, yearEnd, { format: 'csv' })
}
