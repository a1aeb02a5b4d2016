import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '#src/api/app.ts'
import type { EtlSummary } from '#src/etl/run.ts'
import { scheduleEtl } from '#src/etl/schedule.ts'
import { createMetrics } from '#src/metrics.ts'
import { createS3Client } from '#src/source/s3-client.ts'
import { PREFIX, bucketConfig, hourEvents, publish } from '../support/bucket.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { memoryLogger } from '../support/log.ts'
import { writeTwapParquet } from '../support/parquet.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

/** The value of one sample in Prometheus text, e.g. `sample(text, 'x_total', { outcome: 'ok' })`; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')
  const prefix = wanted ? `${name}{${wanted}} ` : `${name} `
  const line = text.split('\n').find((l) => l.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}

describe(`ETL metrics in /metrics on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let app: FastifyInstance
  const runs: { summary: EtlSummary; startedAfter: number; endedBy: number }[] = []
  const sizes = { a: 0, b: 0, brokenC: 0, c: 0 }
  const events = {
    a: hourEvents('2025-11-03T12:00:00Z', 1_700_000),
    b: hourEvents('2025-11-03T13:00:00Z', 1_700_100),
    c: hourEvents('2025-11-03T14:00:00Z', 1_700_200),
  }
  let afterFirstMetrics = ''
  let logLines: { msg: string }[] = []

  beforeAll(async () => {
    store = await createTestStore()
    server = await startS3Server({ bucket: 'hl-ops-metrics' })
    const config = bucketConfig(server)
    // A: one row without a usable wallet, rejected. C: first published corrupt, then fixed,
    // the fixed one repeating one event of A (a duplicate).
    sizes.a = await publish(server, 'hourly/12/a.parquet', [...events.a, { ...events.a[0]!, twap_id: 1_799_999n, state_user: 'not-a-wallet' }])
    sizes.b = await publish(server, 'hourly/13/b.parquet', events.b)
    const broken = 'PAR1 this is not parquet at all PAR1'
    server.putObject(PREFIX + 'hourly/14/c.parquet', broken)
    sizes.brokenC = broken.length

    const metrics = createMetrics()
    app = await buildApp({ db: store.db, config, registry: metrics.registry })
    const { logger, lines } = memoryLogger()
    logLines = lines
    // One scheduled run at a time, given its tick by hand (the clock's ticks fall on 1 January
    // only), so the metrics can be read in between.
    const runOnce = async () => {
      const startedAfter = Date.now()
      // A client per run, as a served schedule builds one per run: the test server closes idle
      // connections, and a run must not meet one closed while it waited.
      const s3 = createS3Client(config.s3, { credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 1 })
      const schedule = scheduleEtl('0 0 1 1 *', { db: store.db, config, logger, metrics, s3 }, logger, (summary) => {
        runs.push({ summary, startedAfter, endedBy: Date.now() })
      })
      await schedule.tick()
      schedule.stop()
    }
    await runOnce()
    afterFirstMetrics = (await app.inject('/metrics')).body
    const fixed = new Uint8Array(await writeTwapParquet([...events.c, events.a[1]!]))
    server.putObject(PREFIX + 'hourly/14/c.parquet', fixed)
    sizes.c = fixed.byteLength
    await runOnce()
  })
  afterAll(async () => {
    await app?.close()
    await server?.close()
    await store?.destroy()
  })

  it('counts a run with a failed object, a rejected row and no success yet', () => {
    const [first] = runs
    expect(first!.summary).toMatchObject({ objectsOk: 2, objectsFailed: 1, rowsInserted: events.a.length + events.b.length, rowsRejected: 1 })
    const text = afterFirstMetrics
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'ok' })).toBe(2)
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'failed' })).toBe(1)
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'skipped' })).toBe(0)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'inserted' })).toBe(events.a.length + events.b.length)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'duplicate' })).toBe(0)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'rejected' })).toBe(1)
    expect(sample(text, 'hltwap_etl_bytes_downloaded_total')).toBe(sizes.a + sizes.b + sizes.brokenC)
    expect(sample(text, 'hltwap_etl_runs_total', { result: 'failed' })).toBe(1)
    expect(sample(text, 'hltwap_etl_runs_total', { result: 'success' })).toBeUndefined()
    expect(sample(text, 'hltwap_etl_last_run_duration_seconds')).toBe(first!.summary.durationMs / 1000)
    expect(sample(text, 'hltwap_etl_last_success_timestamp_seconds')).toBe(0)
  })

  it('adds up every run: the retried object, the skipped ones, bytes, and the time of the last success', async () => {
    expect(runs, JSON.stringify(logLines.filter((l) => !('objectsOk' in l)))).toHaveLength(2)
    const [, second] = runs
    expect(second!.summary).toMatchObject({ objectsOk: 1, objectsFailed: 0, objectsSkipped: 2, rowsInserted: events.c.length, rowsDuplicate: 1 })
    const res = await app.inject('/metrics')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = res.body
    for (const name of ['objects_total', 'rows_total', 'bytes_downloaded_total', 'runs_total']) expect(text).toContain(`# TYPE hltwap_etl_${name} counter`)
    for (const name of ['last_run_duration_seconds', 'last_success_timestamp_seconds']) expect(text).toContain(`# TYPE hltwap_etl_${name} gauge`)
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'ok' })).toBe(3)
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'failed' })).toBe(1)
    expect(sample(text, 'hltwap_etl_objects_total', { outcome: 'skipped' })).toBe(2)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'inserted' })).toBe(events.a.length + events.b.length + events.c.length)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'duplicate' })).toBe(1)
    expect(sample(text, 'hltwap_etl_rows_total', { outcome: 'rejected' })).toBe(1)
    expect(sample(text, 'hltwap_etl_bytes_downloaded_total')).toBe(sizes.a + sizes.b + sizes.brokenC + sizes.c)
    expect(sample(text, 'hltwap_etl_runs_total', { result: 'failed' })).toBe(1)
    expect(sample(text, 'hltwap_etl_runs_total', { result: 'success' })).toBe(1)
    expect(sample(text, 'hltwap_etl_last_run_duration_seconds')).toBe(second!.summary.durationMs / 1000)
    const lastSuccess = sample(text, 'hltwap_etl_last_success_timestamp_seconds')!
    expect(lastSuccess).toBeGreaterThanOrEqual(second!.startedAfter / 1000)
    expect(lastSuccess).toBeLessThanOrEqual(second!.endedBy / 1000)
    expect(server.count('get')).toBe(4)
  })
})
