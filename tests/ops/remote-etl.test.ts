import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConnection } from 'node:net'
import { loadConfig } from '#src/config.ts'
import { SOCKET_FILE, listenForEtl } from '#src/etl/remote.ts'
import { createTestStore } from '../support/db.ts'
import { memoryLogger } from '../support/log.ts'
import { lockDataDir } from '#src/store/datadir-lock.ts'
import { BUCKET_WALLET, PREFIX, bucketEnv, hourEvents, publish } from '../support/bucket.ts'
import { runCli, startCli, stopCli, type CliProcess } from '../support/cli.ts'
import { LEVEL, type LogLine } from '../support/log.ts'
import { writeTwapParquetFile } from '../support/parquet.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

// A child process compiles the sources and opens its database before it answers.
const STARTUP_MS = 90_000

interface Page { twaps: { twap_id: string }[] }

const summaryOf = (stderr: string): LogLine | undefined => stderr.split('\n').filter(Boolean)
  .map((line) => { try { return JSON.parse(line) as LogLine } catch { return { msg: line } } })
  .find((l) => /^(etl (done|stopped|finished)|dry run)/.test(l.msg))

// The embedded store is one process's: `npm start` holds it, and `hl-twap etl` in another
// terminal asks that server to run the ingest, over the socket in the data directory. The
// suite's engine does not matter here: both processes use the embedded store of a temp dir.
describe('hl-twap etl while npm start holds the embedded store', () => {
  let dataDir: string
  let files: string
  let s3: S3TestServer
  let server: CliProcess | undefined
  let url: string
  const env = () => ({ TWAP_DATA_DIR: dataDir, API_HOST: '127.0.0.1', API_PORT: '0', LOG_LEVEL: 'info', ...bucketEnv(s3) })
  const twaps = async () => (await (await fetch(`${url}/api/v1/twaps?wallet=${BUCKET_WALLET}&start=2025-11-01&end=2025-12-01&limit=100`)).json() as Page).twaps

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hltwap-remote-'))
    files = mkdtempSync(join(tmpdir(), 'hltwap-remote-files-'))
    s3 = await startS3Server({ bucket: 'hl-ops-remote' })
    server = startCli(['start'], { env: env() })
    url = (await server.waitForLog((l) => l.msg === 'serving the API', STARTUP_MS)).url as string
    await server.waitForLog((l) => l.msg.startsWith('`hl-twap etl` on this data directory'))
  }, STARTUP_MS + 30_000)
  afterAll(async () => {
    if (server) await stopCli(server, 'SIGKILL')
    await s3?.close()
    rmSync(dataDir, { recursive: true, force: true })
    rmSync(files, { recursive: true, force: true })
  })

  it('listens on a socket in the data directory that only its owner may use', () => {
    const socket = statSync(join(dataDir, SOCKET_FILE))
    expect(socket.isSocket()).toBe(true)
    expect(socket.mode & 0o777).toBe(0o600)
  })

  it('ingests a --local-file given relative to the caller\'s directory, with the plan and summary on its stderr and exit 0, and the API serves the rows', async () => {
    const events = hourEvents('2025-11-03T12:00:00Z', 4_100_000, 3)
    await writeTwapParquetFile(join(files, 'part-0.parquet'), events)
    expect(await twaps()).toEqual([])
    const etl = await runCli(['etl', '--local-file', 'part-0.parquet'], { env: env(), cwd: files })
    expect(etl.code).toBe(0)
    expect(etl.stderr).toContain('"msg":"etl plan"')
    expect(summaryOf(etl.stderr)).toMatchObject({ level: LEVEL.info, objectsOk: 1, objectsFailed: 0, rowsInserted: events.length, msg: expect.stringMatching(/^etl done: objects 1 ok, 0 failed, 0 skipped; rows \d+ inserted/) })
    expect((await twaps()).map((t) => t.twap_id).sort()).toEqual(['4100000', '4100001', '4100002'])
    // The server ran it, and says so in its own log.
    expect(server!.logs.find((l) => l.msg === 'etl run asked for by hl-twap etl')).toMatchObject({ datasets: ['statuses'], source: 'local' })
    expect(server!.logs.some((l) => l.msg.startsWith('etl done: objects 1 ok'))).toBe(true)
  })

  it('answers a dry run with the plan and fetches nothing', async () => {
    await writeTwapParquetFile(join(files, 'part-1.parquet'), hourEvents('2025-11-03T13:00:00Z', 4_200_000, 2))
    const etl = await runCli(['etl', '--local-file', join(files, 'part-1.parquet'), '--dry-run'], { env: env() })
    expect(etl.code).toBe(0)
    expect(summaryOf(etl.stderr)?.msg).toMatch(/^dry run: nothing fetched; 1 object\(s\) to fetch/)
    expect(await twaps()).toHaveLength(3)
  })

  it('refuses a download over --max-bytes with exit 2 and the reason, as a run of its own would', async () => {
    const key = 'hourly/2025/11/03/15/part-0.parquet'
    await publish(s3, key, hourEvents('2025-11-03T15:00:00Z', 4_400_000, 2))
    const etl = await runCli(['etl', '--object-key', PREFIX + key, '--max-bytes', '1'], { env: env() })
    expect(etl.code).toBe(2)
    expect(etl.stderr).toMatch(/hl-twap: this run would download \d+ bytes in 1 objects, over --max-bytes 1; nothing was fetched/)
    expect(await twaps()).toHaveLength(3)
  })

  it('answers a second run with exit 75 while one is in progress, and Ctrl-C stops the first after its object in flight', async () => {
    const key = 'hourly/2025/11/03/14/part-0.parquet'
    await publish(s3, key, hourEvents('2025-11-03T14:00:00Z', 4_300_000, 2))
    // The download takes long enough for a second command to start and ask meanwhile.
    s3.injectFault({ op: 'get', key: PREFIX + key, kind: 'delay', delayMs: 30_000, times: 1 })
    const first = startCli(['etl', '--object-key', PREFIX + key], { env: env() })
    try {
      await first.waitForLog((l) => l.msg === 'etl plan', STARTUP_MS)
      const second = await runCli(['etl', '--local-file', join(files, 'part-1.parquet')], { env: env() })
      expect(second.code).toBe(75)
      expect(second.stderr).toMatch(/hl-twap: the embedded database in .* is in use by an ETL run already in progress in the server that holds it \(process \d+\)/)

      first.child.kill('SIGINT')
      await first.waitForLog((l) => l.msg.startsWith('SIGINT: stopping after the objects in flight'))
      const { code } = await first.exited
      expect(code).toBe(130)
      // The object in flight was finished, not cut off.
      expect(summaryOf(first.stderr())).toMatchObject({ objectsOk: 1, msg: expect.stringMatching(/^etl done: objects 1 ok/) })
      expect(await twaps()).toHaveLength(5)
    } finally {
      await stopCli(first, 'SIGKILL')
    }
  }, 150_000)

  it('removes its socket when it stops', async () => {
    const { code } = await stopCli(server!)
    expect(code).toBe(0)
    expect(existsSync(join(dataDir, SOCKET_FILE))).toBe(false)
    // With no server, `hl-twap etl` opens the store itself.
    const etl = await runCli(['etl', '--local-file', join(files, 'part-1.parquet')], { env: env() })
    expect(etl.code).toBe(0)
    expect(summaryOf(etl.stderr)).toMatchObject({ objectsOk: 1 })
  })
})

describe('hl-twap etl while a process that takes no requests holds the embedded store', () => {
  it('says who holds it and how to ingest instead, exit 75', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hltwap-remote-held-'))
    // This test process holds the directory, as a plain `hl-twap etl` run would: no socket.
    const release = lockDataDir(dataDir)
    try {
      const { code, stderr } = await runCli(['etl', '--local-file', dataDir], { env: { TWAP_DATA_DIR: dataDir } })
      expect(code).toBe(75)
      expect(stderr).toMatch(/^hl-twap: the embedded database in .* is in use by process \d+ .*To ingest into it, stop that server, run this command, then start the server again; a running `npm start` with AWS credentials syncs the bucket itself on ETL_SCHEDULE\n$/)
    } finally {
      release()
      rmSync(dataDir, { recursive: true, force: true })
    }
  }, 120_000)
})

describe('the server side of the etl socket', () => {
  /** Sends `lines` and returns every message the server answers until it closes. */
  async function exchange(path: string, lines: string[]): Promise<Record<string, unknown>[]> {
    const socket = createConnection(path)
    let text = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => { text += chunk })
    await new Promise<void>((done) => socket.once('connect', () => done()))
    for (const line of lines) socket.write(line + '\n')
    await new Promise<void>((done) => socket.once('close', () => done()))
    return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  }

  it('answers a request it cannot read, or of another protocol, with a usage error naming what is wrong, and runs nothing', async () => {
    const store = await createTestStore()
    const dir = mkdtempSync(join(tmpdir(), 'hltwap-remote-proto-'))
    const listening = await listenForEtl({ db: store.db, config: loadConfig({}), logger: memoryLogger().logger }, dir)
    try {
      expect(await exchange(listening.path, ['not json'])).toEqual([{ event: 'end', outcome: 'usage', message: expect.stringContaining('did not understand the request') }])
      expect(await exchange(listening.path, [JSON.stringify({ protocol: 1, run: { datasets: ['trades'], source: { kind: 'incremental' } } })]))
        .toEqual([{ event: 'end', outcome: 'usage', message: expect.stringMatching(/did not understand the request: \/datasets\/0 must be equal to one of the allowed values/) }])
      expect(await exchange(listening.path, [JSON.stringify({ protocol: 99, run: {} })]))
        .toEqual([{ event: 'end', outcome: 'usage', message: expect.stringContaining('runs another version of hl-twap (protocol 99 asked, 1 spoken)') }])
      const { rows } = await store.db.query<{ n: number }>('SELECT count(*)::int AS n FROM etl_s3_ingest_log')
      expect(rows[0]?.n).toBe(0)
    } finally {
      await listening.close()
      await store.destroy()
      rmSync(dir, { recursive: true, force: true })
    }
    expect(existsSync(join(dir, SOCKET_FILE))).toBe(false)
  })
})
