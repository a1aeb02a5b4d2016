import pg from 'pg'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { openPostgres } from '#src/store/postgres.ts'
import { migrate } from '#src/store/migrate.ts'
import { twapsUrl, testConfig, WALLET } from '../support/api.ts'
import { BUCKET_WALLET, bucketEnv, hourEvents, publish, PREFIX } from '../support/bucket.ts'
import { startCli, stopCli, type CliProcess } from '../support/cli.ts'
import { engine } from '../support/db.ts'
import { until, type LogLine } from '../support/log.ts'
import { pgClusterUnavailable, startPgCluster, type PgCluster } from '../support/pg-cluster.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'
import { twaps, useEtlHarness } from '../etl/harness.ts'

// These tests are about PostgreSQL going away; they run with the PostgreSQL suite.
const onPostgres = engine === 'postgres'
const withCluster = onPostgres && !pgClusterUnavailable
if (onPostgres && pgClusterUnavailable) console.warn(`skipping the stopped and frozen PostgreSQL tests: ${pgClusterUnavailable}`)

const STARTUP_MS = 90_000
const LOCAL = { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' }
const EVERY_2S = '*/2 * * * * *'

async function createDatabase(cluster: PgCluster, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: cluster.url() })
  await client.connect()
  try {
    await client.query(`CREATE DATABASE ${name}`)
  } finally {
    await client.end()
  }
  return cluster.url(name)
}

describe.runIf(onPostgres)('an ETL run whose database connection is dropped', () => {
  const h = useEtlHarness()

  it('fails cleanly with one line, its summary and exit 1 when the connection holding the ETL lock is terminated', async () => {
    const keys: string[] = []
    for (const name of ['a', 'b', 'c']) keys.push((await h.putEvents(`${name}.parquet`, twaps(6_000_000 + keys.length * 100, 2))).key)
    h.server.injectFault({ op: 'get', key: keys[1]!, kind: 'delay', delayMs: 1_500, times: 1 })
    const cli = h.startCli(['etl', '--concurrency', '1'])
    await until(() => h.gets(keys[1]) === 1, 'the run to request b.parquet', 60_000)

    const { rows } = await h.db.query<{ ended: boolean }>(
      `SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'hl-twap etl (pid%'`)
    expect(rows).toEqual([{ ended: true }])
    const { code } = await cli.exited

    expect(cli.stderr()).not.toMatch(/Unhandled|\n\s+at /)
    expect(code).toBe(1)
    expect(cli.logs.find((l) => l.msg.startsWith('etl stopped'))).toMatchObject({ objectsOk: 2, objectsFailed: 0, objectsLeft: 1 })
    expect(cli.stderr()).toMatch(/\nhl-twap: the connection holding the ETL lock was lost during the run \(PostgreSQL at [^)]*: terminating connection due to administrator command \(57P01\)\); 2 object\(s\) ingested, 0 failed, 1 left for the next run\n$/)
    expect((await h.ingestLog()).map((r) => [r.key, r.error_text])).toEqual([[keys[0], null], [keys[1], null]])
  })
})

describe.runIf(withCluster)('hl-twap serve --schedule while PostgreSQL stops and starts again', () => {
  let cluster: PgCluster
  let server: S3TestServer
  let cli: CliProcess | undefined

  beforeEach(async () => {
    cluster = await startPgCluster()
    server = await startS3Server({ bucket: 'hl-ops-outage' })
  })
  afterEach(async () => {
    if (cli) await stopCli(cli, 'SIGKILL')
    cli = undefined
    await server?.close()
    cluster?.destroy()
  })

  it('keeps serving, answers 503 while the database is down, and ingests on the next tick once it is back', async () => {
    const url = await createDatabase(cluster, 'outage')
    const events = hourEvents('2025-11-03T12:00:00Z', 1_900_000, 3)
    await publish(server, 'hourly/2025/11/03/12/part-0.parquet', events)
    const key = PREFIX + 'hourly/2025/11/03/12/part-0.parquet'
    server.injectFault({ op: 'get', key, kind: 'delay', delayMs: 2_000, times: 1 })
    cli = startCli(['serve', '--schedule', EVERY_2S], { env: { DATABASE_URL: url, ...bucketEnv(server), ...LOCAL } })
    const base = (await cli.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)).url as string
    await until(() => server.count('get', key) === 1, 'the scheduled run to request the object', 60_000)

    cluster.stop()
    const failed = await cli.waitForLog((l) => l.msg === 'scheduled etl run failed', 30_000)
    expect(failed.error).toMatch(/the (connection holding the ETL lock was lost|database became unavailable) during the run/)
    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(503)
    expect(await health.json()).toMatchObject({ status: 'unavailable', database: { status: 'unavailable', reason: expect.stringMatching(/^unreachable/) } })
    const page = await fetch(`${base}${twapsUrl({ wallet: BUCKET_WALLET, start: '2025-11-01', end: '2025-12-01' })}`)
    expect(page.status).toBe(503)
    // A request that is wrong whatever the data says so without the database.
    const reversed = await fetch(`${base}${twapsUrl({ wallet: BUCKET_WALLET, start: '2025-12-01', end: '2025-11-01' })}`)
    expect(reversed.status).toBe(422)
    expect(await reversed.json()).toMatchObject({ errors: expect.arrayContaining([expect.objectContaining({ parameter: 'start' })]) })
    expect(cli.child.exitCode).toBeNull()

    cluster.start()
    const done = (l: LogLine) => l.msg.startsWith('etl done') && l.objectsOk === 1
    expect(await cli.waitForLog(done, 60_000)).toMatchObject({ objectsFailed: 0, rowsInserted: events.length })
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
    const again = await fetch(`${base}${twapsUrl({ wallet: BUCKET_WALLET, start: '2025-11-01', end: '2025-12-01' })}`)
    expect(again.status).toBe(200)
    expect((await again.json() as { twaps: unknown[] }).twaps).toHaveLength(3)
    expect(cli.stderr()).not.toMatch(/Unhandled|\n\s+at /)
  }, 180_000)
})

describe.runIf(withCluster)('the API while PostgreSQL is frozen (SIGSTOP, as in a network partition)', () => {
  let cluster: PgCluster

  beforeEach(async () => {
    cluster = await startPgCluster()
  })
  afterEach(() => cluster?.destroy())

  it('answers 503 within its timeouts, /healthz within its own deadline with the reason, and recovers once thawed', async () => {
    const db = await openPostgres(await createDatabase(cluster, 'frozen'), 'hl-twap-test', 10, { statementTimeoutMs: 1_000, connectTimeoutMs: 1_000 })
    await migrate(db)
    const app = await buildApp({ db, config: testConfig({ health: { timeoutMs: 500 } }) })
    const page = twapsUrl({ wallet: WALLET, start: '2025-11-01', end: '2025-12-01' })
    try {
      expect((await app.inject(page)).statusCode).toBe(200)
      cluster.freeze()
      try {
        const health = await app.inject('/healthz')
        expect(health.statusCode).toBe(503)
        expect(health.json()).toMatchObject({ status: 'unavailable', database: { status: 'unavailable', reason: 'no answer within 500 ms' } })
        // The first request meets a pooled connection (the read timeout), the next a new one (the connect timeout).
        for (let i = 0; i < 3; i++) {
          const res = await app.inject(page)
          expect(res.statusCode).toBe(503)
          expect(res.json()).toMatchObject({ status: 503, detail: 'The database is unreachable; try again later.' })
        }
      } finally {
        cluster.thaw()
      }
      await until(async () => (await app.inject(page)).statusCode === 200, 'the API to answer again', 30_000)
      expect((await app.inject('/healthz')).statusCode).toBe(200)
    } finally {
      await app.close()
      await db.close()
    }
  }, 120_000)
})
