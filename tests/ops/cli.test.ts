import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SAMPLE_WALLETS, sampleFills, sampleRows } from '#src/sample.ts'
import { BUCKET_WALLET, PREFIX, bucketEnv, hourEvents, publish } from '../support/bucket.ts'
import { runCli, startCli, stopCli, type CliProcess } from '../support/cli.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { LEVEL, until, type LogLine } from '../support/log.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

const LOCAL = { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' }
const EVERY_2S = '*/2 * * * * *'
// A child process compiles the sources and opens its database before it answers.
const STARTUP_MS = 90_000

const etlDone = (line: LogLine) => line.msg.startsWith('etl done')

/** Waits until the child serves and returns its base URL. */
async function servedUrl(cli: CliProcess): Promise<string> {
  const line = await cli.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)
  return line.url as string
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() as T }
}

interface Page { twaps: { twap_id: string }[] }

describe(`hl-twap serve --schedule, as a process, on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let cli: CliProcess | undefined

  beforeEach(async () => {
    store = await createTestStore()
    // The child opens the store itself (PGlite allows one process).
    await store.close()
    server = await startS3Server({ bucket: 'hl-ops-cli' })
  })
  afterEach(async () => {
    if (cli) await stopCli(cli, 'SIGKILL')
    cli = undefined
    await server?.close()
    await store?.destroy()
  })

  it('ingests the bucket on a tick, nothing new on the next, serves the TWAPs and stops with exit 0 on SIGTERM', async () => {
    const events = hourEvents('2025-11-03T12:00:00Z', 1_800_000, 5)
    await publish(server, 'hourly/2025/11/03/12/part-0.parquet', events)
    cli = startCli(['serve', '--schedule', EVERY_2S], { env: { ...store.env, ...bucketEnv(server), ...LOCAL } })
    const url = await servedUrl(cli)
    expect(await cli.waitForLog((l) => l.msg === 'incremental ETL scheduled (UTC)')).toMatchObject({ cron: EVERY_2S, nextRun: expect.any(String) })

    await cli.waitForLog(etlDone, STARTUP_MS)
    await until(() => cli!.logs.filter(etlDone).length >= 2, 'a second scheduled run', 20_000)
    const [first, second] = cli.logs.filter(etlDone)
    expect(first).toMatchObject({ level: LEVEL.info, objectsOk: 1, objectsFailed: 0, rowsInserted: events.length })
    expect(second).toMatchObject({ objectsOk: 0, objectsFailed: 0, objectsSkipped: 1, rowsInserted: 0, bytes: 0 })
    expect(server.count('get')).toBe(1)

    const { status, body } = await getJson<Page>(`${url}/api/v1/twaps?wallet=${BUCKET_WALLET.toUpperCase().replace('0X', '0x')}&start=2025-11-01&end=2025-12-01`)
    expect(status).toBe(200)
    expect(body.twaps.map((t) => t.twap_id).sort()).toEqual(['1800000', '1800001', '1800002', '1800003', '1800004'])
    const health = await getJson<{ status: string; last_ingested: { s3_object_key: string } }>(`${url}/healthz`)
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', last_ingested: { s3_object_key: PREFIX + 'hourly/2025/11/03/12/part-0.parquet' } } })

    const exit = await stopCli(cli)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(cli.logs.filter((l) => l.msg === 'shutting down')).toEqual([expect.objectContaining({ signal: 'SIGTERM' })])
    expect(cli.logs.filter((l) => (l.level ?? LEVEL.error) >= LEVEL.error)).toEqual([])
  }, 180_000)

  it('refuses an invalid --schedule with one line and exit 2, before opening the database', async () => {
    for (const cron of ['every day', '61 * * * *', '', '0 0 31 2 *']) {
      const { code, stdout, stderr } = await runCli(['serve', '--schedule', cron], { env: { ...store.env, ...LOCAL }, timeoutMs: 20_000 })
      expect(code, cron).toBe(2)
      expect(stdout, cron).toBe('')
      expect(stderr, cron).toMatch(new RegExp(`^hl-twap: --schedule ${JSON.stringify(cron).replace(/[*]/g, '\\*')} is not a valid cron expression: [^\\n]+\\n$`))
    }
    const { code, stderr } = await runCli(['start'], { env: { ...store.env, ...LOCAL, ETL_SCHEDULE: 'at noon' }, timeoutMs: 20_000 })
    expect(code).toBe(2)
    expect(stderr).toMatch(/^hl-twap: ETL_SCHEDULE "at noon" is not a valid cron expression: [^\n]+\n$/)
  }, 120_000)
})

describe(`npm start (hl-twap start), as a process, on ${engine}`, () => {
  let store: TestStore
  let env: Record<string, string | undefined>
  let scratch: string
  let cli: CliProcess | undefined

  beforeEach(async () => {
    store = await createTestStore({ migrated: false })
    await store.close()
    scratch = mkdtempSync(join(tmpdir(), 'hltwap-start-'))
    // On the embedded engine, a data directory that does not exist yet: a fresh clone.
    env = engine === 'pglite' ? { TWAP_DATA_DIR: join(scratch, 'data') } : store.env
  })
  afterEach(async () => {
    if (cli) await stopCli(cli, 'SIGKILL')
    cli = undefined
    await store?.destroy()
    rmSync(scratch, { recursive: true, force: true })
  })

  const sampleTwaps = (wallet: string) => [...new Set(sampleRows().filter((r) => r.state_user === wallet).map((r) => String(r.twap_id)))].sort()

  it('without AWS credentials: migrates, loads the sample only into an empty embedded store, serves, says once that S3 sync is off', async () => {
    cli = startCli(['start'], { env: { ...env, ...LOCAL } })
    const url = await servedUrl(cli)
    expect(cli.logs.find((l) => l.msg === 'migrations applied')).toMatchObject({ applied: expect.arrayContaining(['001_init']) })
    const off = cli.logs.filter((l) => /S3 sync/i.test(l.msg))
    expect(off).toEqual([expect.objectContaining({ level: LEVEL.warn, msg: expect.stringMatching(/^S3 sync is off: no AWS credentials configured \(set AWS_ACCESS_KEY_ID/) })])
    expect(cli.logs.some((l) => l.msg === 'incremental ETL scheduled (UTC)')).toBe(false)

    const wallet = SAMPLE_WALLETS[0]
    expect(wallet).toBe('0x9d6a1f0c3b2e4d5a6978b1c2d3e4f5a6b7c8d9b8')
    const { status, body } = await getJson<Page>(`${url}/api/v1/twaps?wallet=${wallet}&start=2025-11-01&end=2025-12-01&limit=5000`)
    expect(status).toBe(200)
    if (engine === 'pglite') {
      expect(cli.logs.find((l) => l.sample !== undefined)).toMatchObject({
        sample: 'loaded', rows: sampleRows().length, fills: sampleFills().flatMap((b) => b.events).filter(([, f]) => f.twapId !== null).length,
        msg: 'empty embedded store: loaded the bundled sample data; the first real ingest removes it',
      })
      expect(body.twaps.length).toBeGreaterThan(0)
      expect(body.twaps.map((t) => t.twap_id).sort()).toEqual(sampleTwaps(wallet))
      const twapId = sampleFills()[0]!.events[0]![1].twapId
      const fills = await getJson<{ fills: unknown[]; totals: { count: number } }>(`${url}/api/v1/twaps/${String(twapId)}/fills`)
      expect(fills.body.totals.count).toBeGreaterThan(0)
      expect(fills.body.fills).toHaveLength(fills.body.totals.count)
      // The sample's hours are all covered, in both datasets, and every TWAP that ended reconciles.
      const coverage = await getJson<{ datasets: Record<string, { complete: boolean; covered_hours: number; gaps: unknown[]; failed_objects: unknown[] }> }>(`${url}/api/v1/coverage`)
      for (const dataset of ['statuses', 'fills']) {
        expect(coverage.body.datasets[dataset], dataset).toMatchObject({ complete: true, gaps: [], failed_objects: [] })
        expect(coverage.body.datasets[dataset]!.covered_hours, dataset).toBeGreaterThan(0)
      }
      for (const w of SAMPLE_WALLETS) {
        const page = await getJson<{ twaps: { twap_id: string; status: string; reconciled: boolean | null }[] }>(`${url}/api/v1/twaps?wallet=${w}&start=2025-11-01&end=2025-12-01&limit=5000`)
        for (const t of page.body.twaps) expect([t.twap_id, t.reconciled]).toEqual([t.twap_id, t.status === 'activated' ? null : true])
      }
    } else {
      // PostgreSQL is a real store: the README's production recipe must not get fake events.
      expect(cli.logs.find((l) => l.sample !== undefined)).toMatchObject({
        sample: 'not loaded', msg: expect.stringMatching(/^bundled sample not loaded: DATABASE_URL is set/),
      })
      expect(body.twaps).toEqual([])
    }

    expect(await stopCli(cli)).toEqual({ code: 0, signal: null })
    expect(cli.logs.filter((l) => (l.level ?? LEVEL.error) >= LEVEL.error)).toEqual([])
    if (engine === 'postgres') {
      const db = await store.reopen()
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM twap_status')).rows[0]!.n).toBe(0)
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM etl_s3_ingest_log')).rows[0]!.n).toBe(0)
    }
  }, 180_000)

  it('with AWS credentials: syncs the bucket on ETL_SCHEDULE, the first real ingest removes the sample, and a store with data gets none', async () => {
    const server = await startS3Server({ bucket: 'hl-ops-start' })
    try {
      // First start: the sample goes into the embedded store (never into PostgreSQL), with
      // the schedule on because keys are set.
      await publish(server, 'hourly/2025/11/03/12/part-0.parquet', hourEvents('2025-11-03T12:00:00Z', 1_900_000, 2))
      const withKeys = { ...env, ...LOCAL, ...bucketEnv(server), ETL_SCHEDULE: EVERY_2S }
      cli = startCli(['start'], { env: withKeys })
      const url = await servedUrl(cli)
      expect(await cli.waitForLog((l) => l.msg === 'incremental ETL scheduled (UTC)')).toMatchObject({ cron: EVERY_2S })
      expect(cli.logs.some((l) => /S3 sync is off/.test(l.msg))).toBe(false)
      expect(cli.logs.find((l) => l.sample !== undefined)).toMatchObject({ sample: engine === 'pglite' ? 'loaded' : 'not loaded' })
      const run = await cli.waitForLog(etlDone, 30_000)
      expect(run).toMatchObject({ objectsOk: 1, rowsInserted: 4 })
      const { body } = await getJson<Page>(`${url}/api/v1/twaps?wallet=${BUCKET_WALLET}&start=2025-11-01&end=2025-12-01`)
      expect(body.twaps.map((t) => t.twap_id).sort()).toEqual(['1900000', '1900001'])
      // The real object's ingest took the sample with it, in the same transaction.
      const removed = cli.logs.find((l) => l.msg === 'real data arrived: removed the bundled sample data')
      if (engine === 'pglite') expect(removed).toMatchObject({ rows: sampleRows().length, key: expect.stringContaining('part-0.parquet') })
      else expect(removed).toBeUndefined()
      for (const wallet of SAMPLE_WALLETS) {
        const sample = await getJson<Page>(`${url}/api/v1/twaps?wallet=${wallet}&start=2025-11-01&end=2025-12-01`)
        expect(sample.body.twaps, wallet).toEqual([])
      }
      expect(await stopCli(cli)).toEqual({ code: 0, signal: null })
      if (engine === 'postgres') {
        const db = await store.reopen()
        const keys = await db.query<{ s3_object_key: string }>('SELECT s3_object_key FROM etl_s3_ingest_log')
        expect(keys.rows.map((r) => r.s3_object_key)).toEqual([`${PREFIX}hourly/2025/11/03/12/part-0.parquet`])
        await db.close()
      }

      // Second start on the same store: it has data, so no sample; the bucket is up to date.
      cli = startCli(['start'], { env: withKeys })
      await servedUrl(cli)
      expect(cli.logs.find((l) => l.sample !== undefined)).toMatchObject({
        sample: 'not loaded', msg: engine === 'pglite' ? 'bundled sample not loaded: the store has data' : expect.stringMatching(/DATABASE_URL is set/),
      })
      expect(await cli.waitForLog(etlDone, 30_000)).toMatchObject({ objectsOk: 0, objectsSkipped: 1 })
      expect(await stopCli(cli)).toEqual({ code: 0, signal: null })
      expect(server.count('get')).toBe(1)
    } finally {
      await server.close()
    }
  }, 240_000)
})
