import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BUCKET_WALLET, hourEvents } from '../support/bucket.ts'
import { runCli, startCli, stopCli, type CliProcess } from '../support/cli.ts'
import { until } from '../support/log.ts'
import { writeTwapParquetFile } from '../support/parquet.ts'
import { pgClusterUnavailable, startPgCluster, startStandby, type PgCluster } from '../support/pg-cluster.ts'

if (pgClusterUnavailable) console.warn(`skipping the read replica tests: ${pgClusterUnavailable}`)

// A child process compiles the sources and opens its databases before it answers.
const STARTUP_MS = 90_000

interface Health {
  status: string
  database: { status: string; engine: string }
  last_ingested: { s3_object_key: string } | null
  replica?: { standby: boolean; lag_seconds: number | null; lag_bytes: number | null; primary: { status: string; reason?: string } }
}

interface Page { twaps: { twap_id: string }[] }

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url)
  return { status: res.status, body: await res.json() as T }
}

async function sql<R>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query(text)).rows as R[]
  } finally {
    await client.end()
  }
}

// A throwaway primary and a hot standby streaming from it, both PostgreSQL 15 on loopback:
// the API started with DATABASE_READ_URL reads the standby, the ETL writes the primary.
describe.skipIf(pgClusterUnavailable)('the API on a streaming read replica (DATABASE_READ_URL)', () => {
  let primary: PgCluster
  let standby: PgCluster
  let api: CliProcess | undefined
  let url: string
  let dir: string
  const env = () => ({ DATABASE_URL: primary.url('hltwap'), DATABASE_READ_URL: standby.url('hltwap'), API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' })
  const twapsUrl = () => `${url}/api/v1/twaps?wallet=${BUCKET_WALLET}&start=2025-11-01&end=2025-12-01&limit=100`

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hltwap-replica-'))
    primary = await startPgCluster()
    await sql(primary.url(), 'CREATE DATABASE hltwap')
    standby = await startStandby(primary)
    api = startCli(['serve'], { env: env() })
    url = (await api.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)).url as string
  }, STARTUP_MS + 60_000)
  afterAll(async () => {
    if (api) await stopCli(api, 'SIGKILL')
    standby?.destroy()
    primary?.destroy()
    rmSync(dir, { recursive: true, force: true })
  })

  it('starts on the replica once it has replayed the migrations the primary applied, and reads it', async () => {
    const [recovery] = await sql<{ in_recovery: boolean }>(standby.url('hltwap'), 'SELECT pg_is_in_recovery() AS in_recovery')
    expect(recovery?.in_recovery).toBe(true)
    expect(api!.logs.find((l) => l.msg === 'serving the API')).toMatchObject({ readDatabase: expect.stringContaining(`:${standby.port}/hltwap`) })
    expect((await getJson<Page>(twapsUrl())).body.twaps).toEqual([])
    // The API's pool holds its connections on the standby, not on the primary.
    const onStandby = await sql<{ n: string }>(standby.url('hltwap'), "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'hl-twap' AND datname = 'hltwap'")
    expect(Number(onStandby[0]!.n)).toBeGreaterThan(0)
  })

  it('serves the rows an ingest wrote to the primary only once the replica has replayed them, and reports its lag meanwhile', async () => {
    const file = join(dir, 'part-0.parquet')
    const events = hourEvents('2025-11-03T12:00:00Z', 3_100_000, 4)
    await writeTwapParquetFile(file, events)
    // Replay paused: the standby receives the ingest's WAL but does not apply it yet.
    await sql(standby.url('hltwap'), 'SELECT pg_wal_replay_pause()')
    // The ETL run has the same two variables as the API, and writes to DATABASE_URL.
    const etl = await runCli(['etl', '--local-file', file], { env: env() })
    expect(etl.stderr).toContain('etl done: objects 1 ok')
    expect(etl.code).toBe(0)
    const [stored] = await sql<{ n: string }>(primary.url('hltwap'), 'SELECT count(*) AS n FROM twap_status')
    expect(Number(stored?.n)).toBe(events.length)

    await until(async () => ((await getJson<Health>(`${url}/healthz`)).body.replica?.lag_bytes ?? 0) > 0, 'the replica to have received WAL it has not replayed', 30_000)
    const behind = (await getJson<Health>(`${url}/healthz`)).body.replica!
    expect(behind).toMatchObject({ standby: true, primary: { status: 'ok' } })
    // The age of the last transaction replayed: the migrations, committed before the API started.
    expect(behind.lag_seconds).toBeGreaterThan(0)
    expect((await getJson<Page>(twapsUrl())).body.twaps).toEqual([])

    await sql(standby.url('hltwap'), 'SELECT pg_wal_replay_resume()')
    await until(async () => (await getJson<Page>(twapsUrl())).body.twaps.length === 4, 'the replica to serve the four new TWAPs', 30_000)
    await until(async () => (await getJson<Health>(`${url}/healthz`)).body.replica?.lag_bytes === 0, 'the replica to catch up', 30_000)
    const health = await getJson<Health>(`${url}/healthz`)
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'ok', database: { status: 'ok', engine: 'postgres' }, last_ingested: { s3_object_key: expect.stringContaining('part-0.parquet') } })
    // Caught up: everything received is replayed, so the data is 0 s behind however long the primary stays quiet.
    expect(health.body.replica).toMatchObject({ standby: true, lag_seconds: 0, lag_bytes: 0, primary: { status: 'ok' } })
  })

  it('keeps serving reads from the replica while the primary is stopped, and /healthz says the primary is down', async () => {
    primary.stop()
    try {
      const health = await getJson<Health>(`${url}/healthz`)
      expect(health.status).toBe(200)
      expect(health.body).toMatchObject({ status: 'ok', database: { status: 'ok' }, replica: { standby: true, primary: { status: 'unavailable', reason: expect.stringMatching(/^unreachable/) } } })
      const page = await getJson<Page>(twapsUrl())
      expect(page.status).toBe(200)
      expect(page.body.twaps).toHaveLength(4)
      const one = await fetch(`${url}/api/v1/twaps/${page.body.twaps[0]!.twap_id}`)
      expect(one.status).toBe(200)
    } finally {
      primary.start()
    }
    await until(async () => (await getJson<Health>(`${url}/healthz`)).body.replica?.primary.status === 'ok', 'the primary to answer again', 30_000)
  })
})
