import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Config } from '#src/config.ts'
import type { EtlSummary } from '#src/etl/run.ts'
import { scheduleEtl, type EtlSchedule } from '#src/etl/schedule.ts'
import { createMetrics } from '#src/metrics.ts'
import { serve } from '#src/serve.ts'
import { createS3Client } from '#src/source/s3-client.ts'
import { BUCKET_WALLET, PREFIX, bucketConfig, bucketEnv, hourEvents, publish } from '../support/bucket.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { LEVEL, memoryLogger, until } from '../support/log.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'
import { makeEvents, writeTwapParquet } from '../support/parquet.ts'

// Ticks come from `tick()`: the clock's own ticks fall on 00:00 of 1 January only.
const ONCE_A_YEAR = '0 0 1 1 *'
const KEY_A = 'hourly/2025/11/03/12/part-0.parquet'
const KEY_B = 'hourly/2025/11/03/13/part-0.parquet'

describe(`the scheduled ETL on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let config: Config
  let schedule: EtlSchedule | undefined
  let rows: number
  let bytes: number

  beforeEach(async () => {
    store = await createTestStore()
    server = await startS3Server({ bucket: 'hl-ops-schedule' })
    config = bucketConfig(server)
    const a = hourEvents('2025-11-03T12:00:00Z', 1_500_000)
    const b = hourEvents('2025-11-03T13:00:00Z', 1_500_100)
    bytes = (await publish(server, KEY_A, a)) + (await publish(server, KEY_B, b))
    server.putObject(PREFIX + 'hourly/2025/11/03/', '')
    rows = a.length + b.length
  })
  afterEach(async () => {
    schedule?.stop()
    await schedule?.idle()
    schedule = undefined
    await server?.close()
    await store?.destroy()
  })

  /** An S3 client with the test keys that gives up at once, so a failure shows fast. */
  const client = () => createS3Client(config.s3, { credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 1 })

  /** A schedule whose runs' summaries and end times land in the returned list. */
  function startSchedule(logger = memoryLogger().logger): { summary: EtlSummary; endedAt: number }[] {
    const done: { summary: EtlSummary; endedAt: number }[] = []
    schedule = scheduleEtl(ONCE_A_YEAR, { db: store.db, config, logger, s3: client() }, logger, (summary) => {
      done.push({ summary, endedAt: Date.now() })
    })
    return done
  }

  /** Gives a schedule `ticks` ticks, one after the other's run; resolves with the runs' summaries. */
  async function runScheduled(ticks: number, logger = memoryLogger().logger): Promise<{ summary: EtlSummary; endedAt: number }[]> {
    const done = startSchedule(logger)
    for (let i = 0; i < ticks; i++) await schedule!.tick()
    return done
  }

  it('ingests the new objects on a tick, and nothing on the next one', async () => {
    const { logger, lines } = memoryLogger()
    const [first, second] = await runScheduled(2, logger)
    expect(first!.summary).toMatchObject({ objectsOk: 2, objectsFailed: 0, objectsSkipped: 0, rowsInserted: rows, rowsDuplicate: 0, rowsRejected: 0, bytes })
    expect(second!.summary).toMatchObject({ objectsOk: 0, objectsFailed: 0, objectsSkipped: 2, rowsInserted: 0, bytes: 0 })
    // Each object is downloaded once; the markers and the folder key are never fetched.
    expect(server.count('get')).toBe(2)
    expect(server.count('get', PREFIX + KEY_A)).toBe(1)
    expect(server.count('list')).toBe(2)
    const summaries = lines.filter((l) => l.msg.startsWith('etl done'))
    expect(summaries.map((l) => l.msg)).toEqual([
      expect.stringMatching(new RegExp(`^etl done: objects 2 ok, 0 failed, 0 skipped; rows ${rows} inserted, 0 duplicate, 0 rejected; `)),
      expect.stringMatching(/^etl done: objects 0 ok, 0 failed, 2 skipped; rows 0 inserted, 0 duplicate, 0 rejected; 0 B downloaded/),
    ])
    expect(summaries[0]).toMatchObject({ level: LEVEL.info, objectsOk: 2, rowsInserted: rows, bytes })
    expect(lines.filter((l) => l.msg === 'object ingested').map((l) => l.key).sort()).toEqual([PREFIX + KEY_A, PREFIX + KEY_B])
    const { rows: count } = await store.db.query<{ n: string }>('SELECT count(*)::int AS n FROM twap_status WHERE wallet = $1', [BUCKET_WALLET])
    expect(count[0]!.n).toBe(rows)
  })

  it('skips the ticks that come while a run is still going, and never runs two at once', async () => {
    // The first download is held back until the ticks below have come.
    server.injectFault({ op: 'get', key: PREFIX + KEY_A, kind: 'delay', delayMs: 2_000, times: 1 })
    const { logger, lines } = memoryLogger()
    const done = startSchedule(logger)
    const firstRun = schedule!.tick()
    await until(() => server.count('get', PREFIX + KEY_A) === 1, 'the first run to start downloading')
    await schedule!.tick()
    await schedule!.tick()
    expect(done).toEqual([])
    await firstRun
    await schedule!.tick()
    const [first, second] = done
    expect(done).toHaveLength(2)
    expect(first!.summary).toMatchObject({ objectsOk: 2, objectsFailed: 0 })
    expect(second!.summary).toMatchObject({ objectsOk: 0, objectsSkipped: 2 })
    // One listing per run: the two ticks during the slow download started nothing.
    const listings = server.requests.filter((r) => r.op === 'list').map((r) => r.at)
    expect(listings).toHaveLength(2)
    expect(listings[1]).toBeGreaterThanOrEqual(first!.endedAt)
    const skipped = lines.filter((l) => l.msg.startsWith('scheduled etl tick skipped'))
    expect(skipped).toHaveLength(2)
    expect(skipped[0]).toMatchObject({ level: LEVEL.warn, cron: ONCE_A_YEAR, runningSince: expect.any(String) })
    expect(lines.filter((l) => (l.level ?? 0) >= LEVEL.error)).toEqual([])
    expect(server.count('get', PREFIX + KEY_A)).toBe(1)
  })

  it('logs a run that cannot list the bucket as failed and tries again on the next tick', async () => {
    server.injectFault({ op: 'list', kind: 'internal-500', times: 1 })
    const { logger, lines } = memoryLogger()
    const runs = await runScheduled(2, logger)
    expect(runs).toHaveLength(1)
    expect(runs[0]!.summary).toMatchObject({ objectsOk: 2 })
    const failed = lines.filter((l) => l.msg === 'scheduled etl run failed')
    expect(failed).toEqual([expect.objectContaining({ level: LEVEL.error, error: expect.stringContaining(`cannot list s3://hl-ops-schedule/${PREFIX}`) })])
    expect(server.count('list')).toBe(2)
  })
})

describe(`serve() with a schedule, in process, on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let close: (() => Promise<void>) | undefined

  beforeEach(async () => {
    store = await createTestStore()
    server = await startS3Server({ bucket: 'hl-ops-serve' })
    // serve() builds its S3 client from the configuration and the SDK's default chain.
    for (const [name, value] of Object.entries(bucketEnv(server))) vi.stubEnv(name, value)
  })
  afterEach(async () => {
    await close?.()
    close = undefined
    vi.unstubAllEnvs()
    await server?.close()
    await store?.destroy()
  })

  it('serves what the scheduled run ingested, with the ETL metrics in /metrics', async () => {
    const events = hourEvents('2025-11-03T12:00:00Z', 1_600_000, 4)
    const size = await publish(server, KEY_A, events)
    const { logger, lines } = memoryLogger()
    const metrics = createMetrics()
    const served = await serve({ db: store.db, config: bucketConfig(server), logger, metrics, schedule: ONCE_A_YEAR })
    // serve() closes the database on close; the store's destroy() tolerates that.
    close = served.close
    expect(lines.find((l) => l.msg === 'incremental ETL scheduled (UTC)')).toMatchObject({ cron: ONCE_A_YEAR, nextRun: expect.any(String) })
    await served.schedule!.tick()
    expect(lines.filter((l) => l.msg.startsWith('etl done: objects 1 ok'))).toHaveLength(1)

    const res = await fetch(`${served.url}/api/v1/twaps?wallet=${BUCKET_WALLET}&start=2025-11-03&end=2025-11-06&latest_per_twap=false`)
    expect(res.status).toBe(200)
    const page = await res.json() as { twaps: { twap_id: string; events: unknown[] }[] }
    expect(page.twaps.map((t) => t.twap_id).sort()).toEqual(['1600000', '1600001', '1600002', '1600003'])
    expect(page.twaps.flatMap((t) => t.events)).toHaveLength(events.length)

    const text = await (await fetch(`${served.url}/metrics`)).text()
    expect(text).toContain('hltwap_etl_objects_total{outcome="ok"} 1\n')
    expect(text).toContain(`hltwap_etl_rows_total{outcome="inserted"} ${events.length}\n`)
    expect(text).toContain(`hltwap_etl_bytes_downloaded_total ${size}\n`)
    expect(text).toMatch(/hltwap_etl_runs_total\{result="success"\} [1-9]\d*\n/)

    const health = await (await fetch(`${served.url}/healthz`)).json() as { status: string; last_ingested: { s3_object_key: string; age_seconds: number } }
    expect(health).toMatchObject({ status: 'ok', last_ingested: { s3_object_key: PREFIX + KEY_A } })
    expect(health.last_ingested.age_seconds).toBeLessThan(30)

    // Closing stops the schedule and waits for a run in flight before closing the database.
    await close()
    close = undefined
    expect(served.schedule!.nextRun()).toBeNull()
    // A tick after close starts nothing.
    const requests = server.requests.length
    await served.schedule!.tick()
    expect(server.requests).toHaveLength(requests)
    expect(server.count('list')).toBe(1)
    expect(lines.filter((l) => l.msg.startsWith('etl done'))).toHaveLength(1)
  })

  it('keeps serving after a tick that meets a damaged object, records it as failed and runs the next tick', async () => {
    const events = hourEvents('2025-11-03T12:00:00Z', 1_605_000)
    await publish(server, KEY_A, events)
    // One flipped bit drops the value counts from the first page header: the decoder used to
    // loop for ever on it, which blocked the API along with the run.
    const damaged = new Uint8Array(await writeTwapParquet(makeEvents({ wallets: 3, twapsPerWallet: 20 })))
    damaged[13]! ^= 0x80
    server.putObject(PREFIX + KEY_B, damaged)
    const { logger, lines } = memoryLogger()
    const served = await serve({ db: store.db, config: bucketConfig(server), logger, metrics: createMetrics(), schedule: ONCE_A_YEAR })
    close = served.close
    await served.schedule!.tick()
    await served.schedule!.tick()

    const runs = lines.filter((l) => 'objectsOk' in l)
    expect(runs[0]).toMatchObject({ objectsOk: 1, objectsFailed: 1, rowsInserted: events.length })
    expect(runs[1]).toMatchObject({ objectsOk: 0, objectsFailed: 1 })
    expect(runs).toHaveLength(2)
    expect(lines.find((l) => l.msg === 'object failed')).toMatchObject({ key: PREFIX + KEY_B, error: expect.stringMatching(/row group 0/) })
    const res = await fetch(`${served.url}/api/v1/twaps?wallet=${BUCKET_WALLET}&start=2025-11-03&end=2025-11-06&latest_per_twap=false`)
    expect(res.status).toBe(200)
    expect(((await res.json()) as { twaps: unknown[] }).twaps).toHaveLength(3)
    expect((await fetch(`${served.url}/healthz`)).status).toBe(200)
  })

  it('on close waits for the scheduled run in flight to commit, then closes the database', async () => {
    const events = hourEvents('2025-11-03T12:00:00Z', 1_610_000)
    await publish(server, KEY_A, events)
    server.injectFault({ op: 'get', kind: 'delay', delayMs: 2_000, times: 1 })
    const { logger, lines } = memoryLogger()
    const served = await serve({ db: store.db, config: bucketConfig(server), logger, metrics: createMetrics(), schedule: ONCE_A_YEAR })
    close = served.close
    void served.schedule!.tick()
    await until(() => server.count('get') === 1, 'the scheduled download to start')
    await served.close()
    close = undefined
    expect(lines.filter((l) => l.msg.startsWith('etl done'))).toEqual([expect.objectContaining({ objectsOk: 1, rowsInserted: events.length })])
    expect(lines.filter((l) => (l.level ?? 0) >= LEVEL.error)).toEqual([])
    await expect(store.db.query('SELECT 1')).rejects.toThrow()
    const db = await store.reopen()
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM twap_status')
    expect(rows[0]!.n).toBe(events.length)
  })

  it('on close stops a scheduled run between objects: the one in flight commits, the next is never fetched', async () => {
    const first = hourEvents('2025-11-03T12:00:00Z', 1_620_000)
    await publish(server, KEY_A, first)
    await publish(server, KEY_B, hourEvents('2025-11-03T13:00:00Z', 1_630_000))
    server.injectFault({ op: 'get', key: PREFIX + KEY_A, kind: 'delay', delayMs: 2_000, times: 1 })
    const { logger, lines } = memoryLogger()
    const config = bucketConfig(server, { ETL_CONCURRENCY: '1' })
    const served = await serve({ db: store.db, config, logger, metrics: createMetrics(), schedule: ONCE_A_YEAR })
    close = served.close
    void served.schedule!.tick()
    await until(() => server.count('get') === 1, 'the scheduled download to start')
    await served.close()
    close = undefined
    expect(lines.filter((l) => 'objectsOk' in l)).toEqual([expect.objectContaining({ objectsOk: 1, objectsLeft: 1, rowsInserted: first.length })])
    expect(server.count('get', PREFIX + KEY_B)).toBe(0)
    const db = await store.reopen()
    const { rows } = await db.query<{ s3_object_key: string }>('SELECT s3_object_key FROM etl_s3_ingest_log')
    expect(rows).toEqual([{ s3_object_key: PREFIX + KEY_A }])
  })

  it('closes the database and names API_HOST and API_PORT when it cannot listen', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const { port } = blocker.address() as AddressInfo
    try {
      const config = bucketConfig(server, { API_PORT: String(port) })
      await expect(serve({ db: store.db, config, logger: memoryLogger().logger, metrics: createMetrics(), schedule: ONCE_A_YEAR }))
        .rejects.toThrow(`cannot listen on 127.0.0.1:${port} (API_HOST, API_PORT): the port is in use`)
      await expect(store.db.query('SELECT 1')).rejects.toThrow()
      expect(server.requests).toEqual([])
    } finally {
      blocker.close()
    }
  })
})
