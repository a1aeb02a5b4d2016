import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import type { Config } from '#src/config.ts'
import { runEtl } from '#src/etl/run.ts'
import { createS3Client } from '#src/source/s3-client.ts'
import { PREFIX, bucketConfig, hourEvents, publish } from '../support/bucket.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { memoryLogger, until } from '../support/log.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

interface Health {
  status: string
  last_ingested: { s3_object_key: string; ingested_at: string; age_seconds: number } | null
  stale_after_hours: number
}

// tests/api/health.test.ts covers the rules on hand-written ingest-log rows; this follows a
// pipeline through real ETL runs: fresh after a run, stale once it stops, fresh again after
// the next successful one, and a failing run does not count as fresh.
describe(`/healthz following the ETL on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let config: Config
  let app: FastifyInstance

  beforeAll(async () => {
    store = await createTestStore()
    server = await startS3Server({ bucket: 'hl-ops-health' })
    // 0.002 h = 7.2 s, read from the environment variable as a deployment sets it: short
    // enough to watch it pass, long enough that a slow run on a loaded machine is still fresh.
    config = bucketConfig(server, { HEALTH_STALE_AFTER_HOURS: '0.002' })
    app = await buildApp({ db: store.db, config })
  })
  afterAll(async () => {
    await app?.close()
    await server?.close()
    await store?.destroy()
  })

  const s3 = () => createS3Client(config.s3, { credentials: { accessKeyId: 'k', secretAccessKey: 's' }, maxAttempts: 1 })
  const etl = () => runEtl({ db: store.db, config, logger: memoryLogger().logger, s3: s3() }, { source: { kind: 'incremental' } })
  async function health(): Promise<Health> {
    const res = await app.inject('/healthz')
    expect(res.statusCode).toBe(200)
    return res.json<Health>()
  }

  it('is ok right after a run, with the object just ingested and its age', async () => {
    await publish(server, 'hourly/12/a.parquet', hourEvents('2025-11-03T12:00:00Z', 2_000_000))
    const before = Date.now()
    expect(await etl()).toMatchObject({ objectsOk: 1 })
    const body = await health()
    expect(body).toMatchObject({ status: 'ok', stale_after_hours: 0.002, last_ingested: { s3_object_key: PREFIX + 'hourly/12/a.parquet' } })
    expect(body.last_ingested!.age_seconds).toBeLessThan(7.2)
    expect(Date.parse(body.last_ingested!.ingested_at)).toBeGreaterThanOrEqual(before - 1_000)
  })

  it('turns stale, still HTTP 200, once nothing new is ingested for longer than the threshold', async () => {
    await until(async () => (await health()).status === 'stale', 'healthz to say stale', 30_000)
    const body = await health()
    expect(body.last_ingested).toMatchObject({ s3_object_key: PREFIX + 'hourly/12/a.parquet' })
    expect(body.last_ingested!.age_seconds).toBeGreaterThanOrEqual(7)
  })

  it('stays stale after a run whose only new object fails', async () => {
    server.putObject(PREFIX + 'hourly/13/b.parquet', 'PAR1 not parquet PAR1')
    expect(await etl()).toMatchObject({ objectsOk: 0, objectsFailed: 1 })
    expect(await health()).toMatchObject({ status: 'stale', last_ingested: { s3_object_key: PREFIX + 'hourly/12/a.parquet' } })
  })

  it('is ok again after the next successful run, reporting the newer object', async () => {
    await publish(server, 'hourly/13/b.parquet', hourEvents('2025-11-03T13:00:00Z', 2_000_100))
    expect(await etl()).toMatchObject({ objectsOk: 1, objectsFailed: 0 })
    const body = await health()
    expect(body).toMatchObject({ status: 'ok', last_ingested: { s3_object_key: PREFIX + 'hourly/13/b.parquet' } })
    expect(body.last_ingested!.age_seconds).toBeLessThan(7.2)
  })
})
