import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { bucketEnv, hourEvents, publish } from '../support/bucket.ts'
import { runCli, startCli, stopCli, type CliProcess } from '../support/cli.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { startImds, type ImdsServer } from '../support/imds.ts'
import { LEVEL } from '../support/log.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

const LOCAL = { API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info' }
const STARTUP_MS = 90_000

/** The bucket settings without the keys: only an instance role (or nothing) can give credentials. */
function bucketWithoutKeys(server: S3TestServer): Record<string, string | undefined> {
  return { ...bucketEnv(server), AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }
}

describe(`the first hour with hl-twap, on ${engine}`, () => {
  let store: TestStore
  let server: S3TestServer
  let imds: ImdsServer | undefined
  let cli: CliProcess | undefined
  let scratch: string

  beforeEach(async () => {
    store = await createTestStore()
    await store.close()
    server = await startS3Server({ bucket: 'hl-first-hour' })
    scratch = mkdtempSync(join(tmpdir(), 'hltwap-first-hour-'))
  })
  afterEach(async () => {
    if (cli) await stopCli(cli, 'SIGKILL')
    cli = undefined
    await imds?.close()
    imds = undefined
    await server?.close()
    await store?.destroy()
    rmSync(scratch, { recursive: true, force: true })
  })

  it('etl without credentials fails at once with one line, however long the instance metadata service stays silent', async () => {
    imds = await startImds({})
    const env = { ...store.env, ...bucketWithoutKeys(server), AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint }
    const { code, stderr } = await runCli(['etl'], { env, timeoutMs: 60_000 })
    const finished = Date.now()
    expect(code).toBe(1)
    expect(stderr).toBe(`hl-twap: cannot list s3://hl-first-hour/raw/twap_statuses/: no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where an instance role is attached; see "AWS credentials" in the README)\n`)
    // Asked once (a token, then the IMDSv1 fallback), without retries, and given up on
    // within the probe's cap (1 s): the bound is loose for a busy machine, and far below
    // the SDK's own 10 to 45 s.
    expect(imds.requests[0]).toBe('PUT /latest/api/token')
    expect(imds.requests.length).toBeLessThanOrEqual(2)
    expect(finished - imds.firstAt()!).toBeLessThan(5_000)
    expect(server.requests).toEqual([])
  }, 90_000)

  it('etl with an instance role and no keys runs on the role\'s credentials', async () => {
    imds = await startImds({ role: 'hl-twap-reader' })
    await publish(server, 'hourly/2025/11/03/12/part-0.parquet', hourEvents('2025-11-03T12:00:00Z', 1_950_000, 2))
    const env = { ...store.env, ...bucketWithoutKeys(server), AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint, LOG_LEVEL: 'info' }
    const { code, stderr } = await runCli(['etl'], { env })
    expect(code, stderr).toBe(0)
    expect(imds.requests).toContain('GET /latest/meta-data/iam/security-credentials/hl-twap-reader')
    expect(server.count('get')).toBe(1)
  }, 120_000)

  it('npm start counts an instance role as credentials and schedules the sync', async () => {
    imds = await startImds({ role: 'hl-twap-reader' })
    const env = { ...(engine === 'pglite' ? { TWAP_DATA_DIR: join(scratch, 'data') } : store.env), ...LOCAL, ...bucketWithoutKeys(server), AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint }
    cli = startCli(['start'], { env })
    await cli.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)
    expect(await cli.waitForLog((l) => l.msg === 'incremental ETL scheduled (UTC)')).toMatchObject({ cron: '30 0 * * *' })
    expect(cli.logs.some((l) => /S3 sync is off/.test(l.msg))).toBe(false)
  }, 120_000)

  it('serve schedules the sync from ETL_SCHEDULE as npm start does, --schedule winning', async () => {
    const env = { ...store.env, ...LOCAL, ...bucketEnv(server), ETL_SCHEDULE: '15 3 * * *' }
    cli = startCli(['serve'], { env })
    expect(await cli.waitForLog((l) => l.msg === 'incremental ETL scheduled (UTC)', STARTUP_MS)).toMatchObject({ cron: '15 3 * * *' })
    await stopCli(cli)
    cli = startCli(['serve', '--schedule', '45 4 * * *'], { env })
    expect(await cli.waitForLog((l) => l.msg === 'incremental ETL scheduled (UTC)', STARTUP_MS)).toMatchObject({ cron: '45 4 * * *' })
  }, 180_000)

  it('a missing --local-file path is a usage error (exit 2); a directory without parquet files warns', async () => {
    const missing = await runCli(['etl', '--local-file', join(scratch, 'nope.parquet')], { env: store.env })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toBe(`hl-twap: --local-file ${join(scratch, 'nope.parquet')}: no such file or directory\n`)
    const empty = join(scratch, 'empty')
    mkdirSync(empty)
    const nothing = await runCli(['etl', '--local-file', empty], { env: { ...store.env, LOG_LEVEL: 'info' } })
    expect(nothing.code).toBe(0)
    const warning = nothing.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === LEVEL.warn)
    expect(warning?.msg).toBe(`no parquet files in ${empty}: nothing was ingested`)
  }, 120_000)

  it.runIf(engine === 'pglite')('etl against the embedded store of a running npm start runs in that server, its warning and exit code passed back', async () => {
    const env = { ...store.env, ...LOCAL }
    cli = startCli(['start'], { env })
    await cli.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)
    const empty = join(scratch, 'nothing-here')
    mkdirSync(empty)
    const { code, stderr } = await runCli(['etl', '--local-file', empty], { env: { ...store.env, LOG_LEVEL: 'info' } })
    expect(code, stderr).toBe(0)
    const warning = stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }).find((l) => l.level === LEVEL.warn)
    expect(warning?.msg).toBe(`no parquet files in ${empty}: nothing was ingested`)
    expect(cli.logs.some((l) => l.msg === 'etl run asked for by hl-twap etl')).toBe(true)
  }, 180_000)
})
