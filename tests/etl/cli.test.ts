import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { withEtlLock } from '#src/etl/lock.ts'
import { estimateCost } from '#src/source/s3-cost.ts'
import { LOCK_FILE } from '#src/store/datadir-lock.ts'
import { createTestStore, engine } from '../support/db.ts'
import { writeTwapParquetFile } from '../support/parquet.ts'
import { logLines, twaps, until, useEtlHarness, type CliResult } from './harness.ts'

const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 }

/** A failure as scripts see it: the exit code and exactly one `hl-twap: …` line, no stack. */
function expectOneLineError(result: CliResult, code: number, message: string | RegExp): void {
  expect(result.stderr).toMatch(/^hl-twap: [^\n]+\n$/)
  expect(result.stderr.slice('hl-twap: '.length, -1)).toMatch(message)
  expect(result.code).toBe(code)
}

/** The run's closing log line. */
function summaryOf(result: CliResult) {
  const line = logLines(result.stderr).find((l) => 'objectsOk' in l)
  expect(line, result.stderr).toBeDefined()
  return line!
}

describe(`the hl-twap etl command, on ${engine}`, () => {
  const h = useEtlHarness()

  it('removes the download directories that killed runs left in TMPDIR, and keeps those of live processes', async () => {
    await putThree()
    const tmp = join(h.dir, 'tmp')
    const gone = spawnSync(process.execPath, ['-e', '0']).pid
    const stale = join(tmp, `hl-twap-${gone}-AbC123`)
    const unnamed = join(tmp, 'hl-twap-Xy9Z01')
    const live = join(tmp, `hl-twap-${process.pid}-LiVe00`)
    for (const dir of [stale, unnamed, live]) {
      await mkdir(dir, { recursive: true })
      await writeFile(join(dir, '1.parquet'), 'half a download')
    }
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000)
    await utimes(unnamed, dayAgo, dayAgo)

    const result = await h.cli(['etl'], { env: { TMPDIR: tmp } })

    expect(result.code, result.stderr).toBe(EXIT.ok)
    expect(existsSync(stale)).toBe(false)
    expect(existsSync(unnamed)).toBe(false)
    expect(existsSync(live)).toBe(true)
    expect((await readdir(tmp)).filter((name) => name.startsWith('hl-twap-'))).toEqual([`hl-twap-${process.pid}-LiVe00`])
    expect(await h.countRows()).toBe(12)
  })

  it('names the temp directory in one line when it cannot download there', async () => {
    await putThree()
    const notADir = join(h.dir, 'not-a-dir')
    await writeFile(notADir, '')

    const result = await h.cli(['etl'], { env: { TMPDIR: notADir } })

    expect(result.code).toBe(EXIT.failed)
    expect(result.stderr).not.toMatch(/\n\s+at /)
    expect(result.stderr.trimEnd().split('\n').at(-1)).toBe(`hl-twap: cannot create a download directory in ${notADir} (set TMPDIR to a writable directory): not a directory`)
    expect(await h.countRows()).toBe(0)
  })

  async function putThree(): Promise<{ keys: string[]; bytes: number }> {
    const objects = await Promise.all([0, 1, 2].map((i) => h.putEvents(`hourly/2025/11/03/0${i}/part-0.parquet`, twaps(1_000 * (i + 1), 2))))
    return { keys: objects.map((o) => o.key), bytes: objects.reduce((n, o) => n + o.size, 0) }
  }

  /** Five objects of three TWAPs (six rows) each under `folder/`. */
  function putFive(folder: string, firstTwapId: number) {
    return Promise.all(['a', 'b', 'c', 'd', 'e'].map((name, i) => h.putEvents(`${folder}/${name}.parquet`, twaps(firstTwapId + 100 * i, 3))))
  }

  /** A `--concurrency 1` ETL child, returned once its download of `key` hangs for `delayMs`. */
  async function startRunHeldOn(key: string, delayMs: number) {
    h.server.injectFault({ op: 'get', key, kind: 'delay', delayMs, times: 1 })
    const child = h.startCli(['etl', '--concurrency', '1'])
    await until(() => h.gets(key) === 1, `the ETL child to request ${key}`)
    return child
  }

  it('--local-file takes files and directories (every *.parquet below them) and exits 1 when one of them fails', async () => {
    const work = join(h.dir, 'work')
    await mkdir(join(work, 'data/2025/11/03'), { recursive: true })
    await writeTwapParquetFile(join(work, 'data/2025/11/a.parquet'), twaps(100, 2))
    await writeTwapParquetFile(join(work, 'data/2025/11/03/b.PARQUET'), twaps(200, 1))
    await writeTwapParquetFile(join(h.dir, 'single.parquet'), twaps(300, 3))
    await writeFile(join(work, 'data/2025/11/03/broken.parquet'), 'not parquet, although the name says so')
    await writeTwapParquetFile(join(work, 'data/2025/11/03/no-wallet.parquet'), twaps(400, 1), { omit: ['state_user'] })
    await writeFile(join(work, 'data/2025/11/03/_SUCCESS'), '')
    await writeFile(join(work, 'data/notes.txt'), 'not data')

    const result = await h.cli(['etl', '--local-file', 'data', '--local-file', '../single.parquet'], { cwd: work })

    expect(result.code).toBe(EXIT.failed)
    expect(result.stdout).toBe('')
    expect(summaryOf(result)).toMatchObject({ objectsOk: 3, objectsFailed: 2, rowsInserted: 12, msg: expect.stringMatching(/^etl finished with failures: objects 3 ok, 2 failed/) })
    const broken = 'not a parquet file: it does not end with the PAR1 magic bytes'
    const noWallet = expect.stringMatching(/^missing required columns: state_user \(file has: /)
    const failed = logLines(result.stderr).filter((l) => l.msg === 'object failed')
    const path = (key: unknown) => String(key).replace(/^local:[0-9a-f]{8}\//, '')
    expect(failed.sort((a, b) => path(a.key).localeCompare(path(b.key)))).toEqual([
      expect.objectContaining({ key: expect.stringMatching(/^local:[0-9a-f]{8}\/2025\/11\/03\/broken\.parquet$/), error: broken }),
      expect.objectContaining({ key: expect.stringMatching(/^local:[0-9a-f]{8}\/2025\/11\/03\/no-wallet\.parquet$/), error: noWallet }),
    ])
    // Keyed by the file's name, or its path below the directory given, after a hash of its absolute path: no server path shows.
    const log = await h.ingestLog()
    expect(log.map((r) => [r.key.replace(/^local:[0-9a-f]{8}\//, 'local:#/'), r.rows_ingested, r.error_text]).sort()).toEqual([
      ['local:#/2025/11/03/b.PARQUET', 2, null],
      ['local:#/2025/11/03/broken.parquet', 0, broken],
      ['local:#/2025/11/03/no-wallet.parquet', 0, noWallet],
      ['local:#/2025/11/a.parquet', 4, null],
      ['local:#/single.parquet', 6, null],
    ])
    for (const r of log) expect(r.key).not.toContain(h.dir)
    expect(new Set(log.map((r) => r.key.slice(0, 15))).size).toBe(log.length)
    expect(await h.countRows()).toBe(12)
    expect(h.server.requests).toEqual([])
  })

  it('--dry-run prints what it would fetch, the bytes and the estimated cost, and fetches nothing', async () => {
    const { keys, bytes } = await putThree()

    const result = await h.cli(['etl', '--dry-run'])

    expect(result.code).toBe(EXIT.ok)
    const lines = logLines(result.stderr)
    expect(lines.find((l) => l.msg === 'etl plan (dry run)')).toMatchObject({
      objects: 3, bytes, dryRun: true, estimatedCostUsd: Math.round(estimateCost(1, 3, bytes).usd * 1e6) / 1e6,
    })
    expect(lines.filter((l) => l.msg === 'would fetch').map((l) => l.key)).toEqual(keys)
    expect(summaryOf(result).msg).toMatch(/^dry run: nothing fetched; 3 object\(s\) to fetch, \d+\.\d KB, estimated cost \$0\.0000$/)
    expect(h.gets()).toBe(0)
    expect(await h.ingestLog()).toEqual([])
  })

  it('--max-bytes refuses a larger run before downloading anything: exit 2, one line', async () => {
    const { bytes } = await putThree()

    const result = await h.cli(['etl', '--max-bytes', String(bytes - 1)])

    expectOneLineError(result, EXIT.usage, `this run would download ${bytes} bytes in 3 objects, over --max-bytes ${bytes - 1}; nothing was fetched`)
    expect(h.gets()).toBe(0)
    expect(await h.ingestLog()).toEqual([])
  })

  it('a second ETL against the same database exits 75 with one line naming the holder', async () => {
    await putThree()
    if (engine === 'postgres') {
      // This process holds the ETL lock as a running `hl-twap etl` would, and so does a run
      // on another database of the same server, which must not be named.
      const elsewhere = await createTestStore()
      try {
        const { result, holder } = await withEtlLock(elsewhere.db, () => withEtlLock(h.db, async () => {
          const { rows } = await h.db.query<{ pid: number }>(
            `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)
          return { holder: rows[0]!.pid, result: await h.cli(['etl'], { keepStore: true }) }
        }))
        expectOneLineError(result, EXIT.busy, new RegExp(`^another ETL run holds PostgreSQL at .*: hl-twap etl \\(pid ${process.pid} on .*\\) \\(server pid ${holder} from `))
      } finally {
        await elsewhere.destroy()
      }
    } else {
      // This process has the embedded database open, as a running `hl-twap serve` would.
      const result = await h.cli(['etl'], { keepStore: true })
      expectOneLineError(result, EXIT.busy, new RegExp(`^the embedded database in .* is in use by process ${process.pid} on `))
    }
    expect(h.server.requests).toEqual([])
    expect(await h.ingestLog()).toEqual([])
  })

  it('a run killed with SIGKILL mid-object is completed by the next run, with exactly the rows of a clean run', async () => {
    const objects = await putFive('kill', 20_000)

    await h.released(async () => {
      const killed = await startRunHeldOn(objects[2]!.key, 60_000)
      killed.child.kill('SIGKILL')
      expect(await killed.exited).toMatchObject({ signal: 'SIGKILL' })
      if (engine === 'pglite') {
        // The dead process's lock file is left behind; the next run must take it over.
        const lock = join(h.store.env.TWAP_DATA_DIR, LOCK_FILE)
        expect(existsSync(lock)).toBe(true)
        expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: killed.child.pid })
      }
      const rerun = await h.cli(['etl'], { keepStore: true })
      expect(rerun.code, rerun.stderr).toBe(EXIT.ok)
      expect(summaryOf(rerun)).toMatchObject({ objectsOk: 3, objectsFailed: 0, objectsSkipped: 2, rowsInserted: 18 })
    })

    const clean = await createTestStore()
    try {
      await h.run({}, { db: clean.db })
      expect(await h.digest()).toEqual(await h.digest(clean.db))
      expect(await h.digest()).toMatchObject({ rows: 30 })
      const log = await h.ingestLog()
      expect(log.map((r) => [r.key, r.rows_ingested, r.error_text])).toEqual(objects.map((o) => [o.key, 6, null]))
      expect(log).toEqual(await h.ingestLog(clean.db))
    } finally {
      await clean.destroy()
    }
  }, 180_000) // three CLI processes, each starting the embedded engine

  it('SIGTERM stops a run between objects: the object in flight commits, the rest wait for the next run', async () => {
    const objects = await putFive('stop', 30_000)

    await h.released(async () => {
      const stopped = await startRunHeldOn(objects[2]!.key, 2_000)
      stopped.child.kill('SIGTERM')
      expect(await stopped.exited).toMatchObject({ code: 143 })
      const summary = logLines(stopped.stderr()).find((l) => 'objectsOk' in l)
      expect(summary).toMatchObject({ objectsOk: 3, objectsFailed: 0, objectsLeft: 2, rowsInserted: 18 })
      expect(summary!.msg).toMatch(/^etl stopped, 2 object\(s\) left for the next run: /)
      expect(h.gets(objects[3]!.key)).toBe(0)

      const rerun = await h.cli(['etl'], { keepStore: true })
      expect(rerun.code, rerun.stderr).toBe(EXIT.ok)
      expect(summaryOf(rerun)).toMatchObject({ objectsOk: 2, objectsSkipped: 3, objectsLeft: 0, rowsInserted: 12 })
    })
    expect(await h.digest()).toMatchObject({ rows: 30 })
  })

  it('fails with one line and no stack trace on an unreachable database, a bad setting, conflicting flags or a missing bucket', async () => {
    // Only the run against the missing bucket opens the store; the others stop before.
    const runs: [string, Record<string, string | undefined>][] = [
      ['etl', { DATABASE_URL: 'postgres://root@127.0.0.1:1/nowhere', TWAP_DATA_DIR: undefined }],
      ['etl', { AWS_S3_FORCE_PATH_STYLE: 'maybe' }],
      ['etl --object-key a.parquet --local-file b.parquet', {}],
      ['etl --concurrency lots', {}],
      ['etl', { AWS_S3_BUCKET: 'no-such-bucket' }],
    ]
    const [unreachable, badSetting, conflicting, badNumber, missingBucket] =
      await h.released(() => Promise.all(runs.map(([args, env]) => h.cli(args.split(' '), { env, keepStore: true }))))

    expectOneLineError(unreachable!, EXIT.failed, /^cannot connect to PostgreSQL at postgres:\/\/root@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/)
    expectOneLineError(badSetting!, EXIT.usage, 'AWS_S3_FORCE_PATH_STYLE must be boolean (got "maybe")')
    expectOneLineError(conflicting!, EXIT.usage, '--object-key and --local-file cannot be combined')
    expect(badNumber!.code).toBe(EXIT.usage)
    expect(badNumber!.stderr).toMatch(/^error: option '--concurrency <n>' argument 'lots' is invalid\. --concurrency must be a positive whole number\n/)
    expect(badNumber!.stderr).not.toMatch(/\n\s+at /)
    expectOneLineError(missingBucket!, EXIT.failed,
      'cannot list s3://no-such-bucket/raw/twap_statuses/: NoSuchBucket: bucket "no-such-bucket" does not exist (check AWS_S3_BUCKET and AWS_ENDPOINT_URL)')
  })
})
