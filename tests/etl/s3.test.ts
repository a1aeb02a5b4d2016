import { describe, expect, it } from 'vitest'
import { estimateCost } from '#src/source/s3-cost.ts'
import { EtlBusyError } from '#src/etl/lock.ts'
import { openDb } from '#src/store/open.ts'
import { engine } from '../support/db.ts'
import { parquetBytes, writeTwapParquet, type SourceEvent } from '../support/parquet.ts'
import { oneTwap, PREFIX, twaps, until, useEtlHarness } from './harness.ts'

const WALLET = '0x9d6a0b3c4e5f60718293a4b5c6d7e8f901234ab8'

/** `twap_id status` of each event, sorted: what an object's stored rows must be. */
function eventKeys(events: readonly SourceEvent[]): string[] {
  return events.map((e) => `${e.twap_id} ${typeof e.status === 'string' ? e.status : `error: ${e.status.error}`}`).sort()
}

describe(`hl-twap etl from a requester-pays bucket, on ${engine}`, () => {
  const h = useEtlHarness()

  async function storedKeys(key: string): Promise<string[]> {
    const { rows } = await h.db.query<{ k: string }>(`SELECT twap_id || ' ' || status AS k FROM twap_status WHERE s3_object_key = $1`, [key])
    return rows.map((r) => r.k).sort()
  }

  it('ingests every object of a prefix that lists over two pages; a second run fetches and inserts nothing', async () => {
    const objects = 1_050
    let bytes = 0
    for (let i = 0; i < objects; i++) {
      bytes += (await h.putEvents(`hourly/2025/11/03/${String(i).padStart(4, '0')}.parquet`, oneTwap(i))).size
    }

    const first = await h.run({ concurrency: 8 })

    expect(first).toMatchObject({
      objectsOk: objects, objectsFailed: 0, objectsSkipped: 0,
      rowsInserted: 2 * objects, rowsDuplicate: 0, rowsRejected: 0, bytes, failures: [],
    })
    expect(h.server.count('list')).toBe(2)
    expect(h.gets()).toBe(objects)
    expect(h.server.requests.every((r) => r.requestPayer === 'requester')).toBe(true)
    expect(await h.countRows()).toBe(2 * objects)
    const log = await h.ingestLog()
    expect(log).toHaveLength(objects)
    expect(log.filter((r) => r.error_text === null && r.rows_ingested === 2)).toHaveLength(objects)
    const stored = await h.digest()

    h.server.requests.length = 0
    const second = await h.run({ concurrency: 8 })

    expect(second).toMatchObject({ objectsOk: 0, objectsFailed: 0, objectsSkipped: objects, rowsInserted: 0, rowsDuplicate: 0, bytes: 0 })
    expect(h.gets()).toBe(0)
    expect(h.server.count('list')).toBe(2)
    expect(await h.digest()).toEqual(stored)
  }, 300_000) // 1,050 objects, one transaction each: minutes on the embedded engine of a busy machine

  it('skips markers, folder keys, zero-byte objects and other files without fetching them', async () => {
    const parquet = [
      (await h.putEvents('hourly/2025/11/03/00/part-0.parquet', oneTwap(1))).key,
      (await h.putEvents('hourly/2025/11/03/01/PART-1.PARQUET', oneTwap(2))).key,
    ]
    for (const name of ['hourly/', 'hourly/2025/11/03/00/', 'hourly/2025/11/03/00/_SUCCESS', 'hourly/2025/11/03/00/empty.parquet']) h.putBytes(name, '')
    h.putBytes('hourly/2025/11/03/00/_metadata', 'PAR1 footer only PAR1')
    h.putBytes('hourly/2025/11/03/00/_common_metadata', 'PAR1 footer only PAR1')
    h.putBytes('hourly/2025/11/03/00/.part-0.parquet.crc', 'crc')
    h.putBytes('hourly/2025/11/03/00/part-0.parquet.crc', 'crc')
    h.putBytes('hourly/2025/11/03/00/README.txt', 'not data')

    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 2, objectsFailed: 0, objectsSkipped: 0, rowsInserted: 4 })
    expect(h.server.requests.filter((r) => r.op === 'get').map((r) => r.key).sort()).toEqual(parquet.sort())
    expect((await h.ingestLog()).map((r) => r.key)).toEqual(parquet)
  })

  it('stores an event once when an object repeats it or another object already holds it, counting the rest as duplicates', async () => {
    const repeats = await h.putEvents('a-repeats.parquet', [...oneTwap(11), ...oneTwap(11), ...oneTwap(12)])
    const overlaps = await h.putEvents('b-overlaps.parquet', [...oneTwap(12), ...oneTwap(13)])

    expect(await h.run({ concurrency: 1 })).toMatchObject({ objectsOk: 2, rowsInserted: 6, rowsDuplicate: 4 })

    expect((await h.ingestLog()).map((r) => [r.key, r.rows_ingested, r.rows_duplicate])).toEqual([[repeats.key, 4, 2], [overlaps.key, 2, 2]])
    expect(await h.countRows()).toBe(6)
  })

  it('--object-key ingests exactly that object, and refuses a marker or a key that does not exist', async () => {
    const { key } = await h.putEvents('hourly/one.parquet', oneTwap(14))
    await h.putEvents('hourly/other.parquet', oneTwap(15))
    const marker = h.putBytes('hourly/_SUCCESS', 'done')

    expect(await h.run({ source: { kind: 'object', key } })).toMatchObject({ objectsOk: 1, rowsInserted: 2 })
    expect((await h.ingestLog()).map((r) => r.key)).toEqual([key])
    expect(h.server.count('list')).toBe(0)
    await expect(h.run({ source: { kind: 'object', key: marker } })).rejects.toThrow(`${marker} is not a parquet object (or is empty); nothing to ingest`)
    await expect(h.run({ source: { kind: 'object', key: 'hourly/one.parquet' } })).rejects.toThrow(
      `cannot read s3://${h.server.bucket}/hourly/one.parquet: no such object (--object-key takes the whole key, AWS_S3_PREFIX included)`)
    expect(h.gets()).toBe(1)
  })

  it('--since leaves out the objects last modified before that instant', async () => {
    await h.putEvents('old.parquet', oneTwap(16), {}, new Date('2025-11-02T23:59:59Z'))
    const { key: onTime } = await h.putEvents('on-time.parquet', oneTwap(17), {}, new Date('2025-11-03T00:00:00Z'))
    const { key: newer } = await h.putEvents('newer.parquet', oneTwap(18), {}, new Date('2025-11-04T08:00:00Z'))

    expect(await h.run({ source: { kind: 'incremental', since: new Date('2025-11-03T00:00:00Z') } })).toMatchObject({ objectsOk: 2, objectsSkipped: 0, rowsInserted: 4 })
    expect((await h.ingestLog()).map((r) => r.key)).toEqual([newer, onTime])
  })

  it('records a corrupt object and one missing required columns with their errors, and ingests the rest', async () => {
    const good = await h.putEvents('a-good.parquet', twaps(3_000_000, 2))
    const corrupt = h.putBytes('b-corrupt.parquet', 'these bytes are not a parquet file at all')
    const { key: missing } = await h.putEvents('c-missing.parquet', twaps(3_100_000, 2), { omit: ['twap_id', 'state_user'] })
    const later = await h.putEvents('d-good.parquet', twaps(3_200_000, 3))

    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 2, objectsFailed: 2, rowsInserted: 10, rowsRejected: 0 })
    // Failures are listed as the objects finish, several at a time; sorted here by key.
    summary.failures.sort((a, b) => a.key.localeCompare(b.key))
    expect(summary.failures).toEqual([
      { key: corrupt, error: 'not a parquet file: it does not end with the PAR1 magic bytes' },
      { key: missing, error: expect.stringMatching(/^missing required columns: twap_id, state_user \(file has: time, state_coin, /) },
    ])
    expect(await h.ingestLog()).toEqual([
      expect.objectContaining({ key: good.key, rows_ingested: 4, error_text: null }),
      expect.objectContaining({ key: corrupt, rows_ingested: 0, error_text: summary.failures[0]!.error }),
      expect.objectContaining({ key: missing, rows_ingested: 0, error_text: summary.failures[1]!.error }),
      expect.objectContaining({ key: later.key, rows_ingested: 6, error_text: null }),
    ])
    expect(await h.countRows()).toBe(10)
  })

  it('replaces the rows of an object rewritten upstream (new ETag) instead of adding to them', async () => {
    const first = twaps(4_000_000, 3)
    const { key } = await h.putEvents('rewritten.parquet', first)
    const other = await h.putEvents('untouched.parquet', twaps(4_100_000, 1))
    await h.run()
    const [before] = await h.ingestLog()
    // The rewrite keeps the first TWAP, drops the other two and adds two new ones.
    const second = [...twaps(4_000_000, 1), ...twaps(4_050_000, 2)]
    expect(eventKeys(second)).toContain(eventKeys(first)[0])

    await h.putEvents('rewritten.parquet', second)
    h.server.requests.length = 0
    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 1, objectsSkipped: 1, rowsInserted: second.length, rowsDuplicate: 0 })
    expect(h.gets(other.key)).toBe(0)
    expect(await storedKeys(key)).toEqual(eventKeys(second))
    expect(await h.countRows()).toBe(second.length + 2)
    const [after] = await h.ingestLog()
    expect(after).toMatchObject({ key, rows_ingested: second.length, error_text: null })
    expect(after!.etag).not.toBe(before!.etag)
  })

  it('fails an object rewritten between listing and download, and ingests its new version on the next run', async () => {
    const { key: first } = await h.putEvents('a.parquet', oneTwap(19))
    const { key: moving } = await h.putEvents('b.parquet', oneTwap(20))
    const rewrite = new Uint8Array(await writeTwapParquet(oneTwap(21)))
    h.server.injectFault({ op: 'get', key: first, kind: 'delay', delayMs: 1_000, times: 1 })
    const running = h.run({ concurrency: 1 })
    await until(() => h.gets(first) === 1, 'the run to request a.parquet')
    h.putBytes('b.parquet', rewrite)

    const raced = await running

    expect(raced).toMatchObject({ objectsOk: 1, objectsFailed: 1, rowsInserted: 2 })
    expect(raced.failures).toEqual([{ key: moving, error: expect.stringMatching(/^download failed: s3:\/\/.*\/b\.parquet changed since it was listed \(ETag is no longer "[0-9a-f]+"\); run again to pick up the new version$/) }])
    expect(await h.run()).toMatchObject({ objectsOk: 1, objectsFailed: 0, objectsSkipped: 1, rowsInserted: 2 })
    expect(await storedKeys(moving)).toEqual(eventKeys(oneTwap(21)))
  })

  it('retries on the next run an object whose download failed, and --force re-ingests what is already stored', async () => {
    const { key: flaky } = await h.putEvents('flaky.parquet', twaps(5_000_000, 2))
    const steady = await h.putEvents('steady.parquet', twaps(5_100_000, 1))
    // Every attempt of the download fails (one SDK attempt each, five download attempts).
    h.server.injectFault({ op: 'get', key: flaky, kind: 'internal-500', times: 5 })

    const failed = await h.run({}, { s3: { maxAttempts: 1 } })

    expect(failed).toMatchObject({ objectsOk: 1, objectsFailed: 1, rowsInserted: 2 })
    expect(failed.failures[0]!.error).toMatch(/failed after 5 attempt\(s\): InternalError: We encountered an internal error/)
    expect((await h.ingestLog())[0]).toMatchObject({ key: flaky, rows_ingested: 0, error_text: failed.failures[0]!.error })

    h.server.requests.length = 0
    const retried = await h.run()

    expect(retried).toMatchObject({ objectsOk: 1, objectsFailed: 0, objectsSkipped: 1, rowsInserted: 4 })
    expect(retried.planned.map((o) => [o.key, o.reason])).toEqual([[flaky, 'retry']])
    expect(h.gets(steady.key)).toBe(0)
    expect((await h.ingestLog()).map((r) => [r.key, r.rows_ingested, r.error_text])).toEqual([[flaky, 4, null], [steady.key, 2, null]])
    const stored = await h.digest()

    h.server.requests.length = 0
    const forced = await h.run({ force: true })

    expect(forced).toMatchObject({ objectsOk: 2, objectsSkipped: 0, rowsInserted: 6, rowsDuplicate: 0 })
    expect(forced.planned.map((o) => o.reason)).toEqual(['forced', 'forced'])
    expect(h.gets()).toBe(2)
    expect(await h.digest()).toEqual(stored)
  })

  it('rides out throttling, resets, truncated and stalled bodies with retries', async () => {
    const objects = await Promise.all(['slowdown', 'reset', 'truncate', 'stall'].map((name, i) => h.putEvents(`${name}.parquet`, twaps(6_000_000 + 1000 * i, 3))))
    const [slowdown, reset, truncate, stall] = objects.map((o) => o.key)
    h.server.injectFault({ op: 'list', kind: 'slowdown-503', times: 1 })
    h.server.injectFault({ op: 'get', key: slowdown, kind: 'slowdown-503', times: 2 })
    h.server.injectFault({ op: 'get', key: reset, kind: 'reset', times: 1 })
    h.server.injectFault({ op: 'get', key: truncate, kind: 'truncate', times: 1 })
    h.server.injectFault({ op: 'get', key: stall, kind: 'stall', times: 1 })

    const summary = await h.run({}, { s3: { timeouts: { idleMs: 1_000 } } })

    expect(summary).toMatchObject({ objectsOk: 4, objectsFailed: 0, rowsInserted: 24 })
    // Bytes that reached the process but not the disk before a body broke are sent again
    // (the resume starts from what is on disk), so the count may exceed the objects' sizes.
    const total = objects.reduce((n, o) => n + o.size, 0)
    expect(summary.bytes).toBeGreaterThanOrEqual(total)
    expect(summary.bytes).toBeLessThan(total + objects[2]!.size + objects[3]!.size)
    expect(h.server.count('list')).toBe(2)
    expect([slowdown, reset, truncate, stall].map((key) => h.gets(key))).toEqual([3, 2, 2, 2])
    expect((await h.ingestLog()).every((r) => r.error_text === null && r.rows_ingested === 6)).toBe(true)
    expect(await h.countRows()).toBe(24)
  })

  it('stores exactly the source values through a run where 40 % of the downloads are bit-flipped, short, cut or refused', async () => {
    const objects = 24
    for (let i = 0; i < objects; i++) {
      const bytes = new Uint8Array(await writeTwapParquet(twaps(9_000_000 + 100 * i, 3)))
      h.server.putObject(`${PREFIX}faulty/${String(i).padStart(2, '0')}.parquet`, bytes, { checksum: i % 2 === 0 })
    }
    h.server.injectRandomFaults({ op: 'get', rate: 0.4, kinds: ['bitflip', 'short', 'truncate', 'reset', 'internal-500'], seed: 18 })

    const first = await h.run({}, { s3: { maxAttempts: 2 } })

    expect(first.objectsOk + first.objectsFailed).toBe(objects)
    expect(h.server.requests.some((r) => r.op === 'get' && r.status === 200)).toBe(true)
    const second = await h.run({}, { s3: { maxAttempts: 2 } })
    expect(first.objectsOk + second.objectsOk).toBe(objects)
    expect(second.objectsFailed).toBe(0)
    const faulty = await h.digest()

    // A forced clean run replaces every object's rows with what the bucket really holds.
    h.server.injectRandomFaults({ op: 'get', rate: 0, kinds: ['reset'], seed: 1 })
    expect(await h.run({ force: true })).toMatchObject({ objectsOk: objects, objectsFailed: 0 })
    expect(await h.digest()).toEqual(faulty)
    expect(faulty.rows).toBe(objects * 6)
  })

  it('keeps the activated and the finished event of one TWAP that carry the same timestamp', async () => {
    const [activated, finished] = oneTwap(7)
    const time = '2025-11-03T09:15:00.123456789'
    const { key } = await h.putEvents('same-time.parquet', [{ ...activated!, time }, { ...finished!, time, status: 'finished' }])

    expect(await h.run()).toMatchObject({ objectsOk: 1, rowsInserted: 2, rowsDuplicate: 0 })

    const { rows } = await h.db.query<{ status: string; ts: string }>('SELECT status, ts FROM twap_status WHERE s3_object_key = $1 ORDER BY status', [key])
    expect(rows).toEqual([{ status: 'activated', ts: '2025-11-03 09:15:00.123456+00' }, { status: 'finished', ts: '2025-11-03 09:15:00.123456+00' }])
  })

  it('refreshes the planner statistics after a run that inserted rows, and only then', async () => {
    const analyzed = async () => (await h.db.query<{ n: string }>(
      "SELECT (coalesce(analyze_count, 0) + coalesce(autoanalyze_count, 0))::text AS n FROM pg_stat_user_tables WHERE relname = 'twap_status'",
    )).rows[0]!.n
    const before = Number(await analyzed())
    await h.putEvents('stats.parquet', oneTwap(11))
    expect(await h.run()).toMatchObject({ rowsInserted: 2 })
    const after = Number(await analyzed())
    expect(after).toBeGreaterThan(before)
    expect(await h.run()).toMatchObject({ rowsInserted: 0, objectsSkipped: 1 })
    expect(Number(await analyzed())).toBe(after)
  })

  it('counts the rows without twap_id, wallet or usable time per object, with their reasons', async () => {
    const time = 1764867622417n
    const mixed = h.putBytes('mixed.parquet', new Uint8Array(await parquetBytes([
      { name: 'twap_id', data: [1n, null, 3n, 4n, 5n, 6n], type: 'INT64' },
      { name: 'state_user', data: [WALLET, WALLET, null, '0xnot-a-wallet', WALLET, WALLET.toUpperCase().replace('0X', '0x')], type: 'STRING' },
      { name: 'time', data: [time, time, time, time, null, time + 1n], type: 'INT64' },
      { name: 'state_timestamp', data: [time, time, time, time, 0n, time], type: 'INT64' },
      { name: 'status', data: ['activated', 'activated', 'activated', 'activated', 'activated', 'finished'], type: 'STRING' },
    ], { rowGroupSize: 4 })))
    const clean = await h.putEvents('clean.parquet', twaps(7_000_000, 1))

    const { summary, results } = await h.runReported()

    expect(summary).toMatchObject({ objectsOk: 2, objectsFailed: 0, rowsInserted: 4, rowsRejected: 4 })
    expect(results.get(mixed)).toMatchObject({ ok: true, inserted: 2, rejected: 4 })
    expect(results.get(mixed)!.rejections).toEqual([
      { row: 1, reason: 'missing twap_id' },
      { row: 2, reason: 'missing state_user (wallet)' },
      { row: 3, reason: 'invalid wallet in state_user "0xnot-a-wallet": expected 0x and 40 hex digits' },
      { row: 4, reason: 'no usable time: time=null, state_timestamp=0 (need an instant between 2000 and 2100)' },
    ])
    expect((await h.ingestLog()).map((r) => [r.key, r.rows_ingested, r.rows_rejected])).toEqual([[clean.key, 2, 0], [mixed, 2, 4]])
    const { rows } = await h.db.query<{ twap_id: string; wallet: string }>('SELECT twap_id, wallet FROM twap_status WHERE s3_object_key = $1 ORDER BY twap_id', [mixed])
    expect(rows).toEqual([{ twap_id: '1', wallet: WALLET }, { twap_id: '6', wallet: WALLET }])
  })

  it('plans a dry run from the listing alone: objects, bytes and requester-pays cost, nothing fetched or stored', async () => {
    const objects = await Promise.all([1, 2, 3].map((i) => h.putEvents(`dry/${i}.parquet`, oneTwap(i))))
    const bytes = objects.reduce((n, o) => n + o.size, 0)

    const summary = await h.run({ dryRun: true })

    expect(summary).toMatchObject({ dryRun: true, objectsOk: 0, objectsSkipped: 0, rowsInserted: 0, bytes: 0 })
    expect(summary.planned.map((o) => [o.key, o.size, o.reason])).toEqual(objects.map((o) => [o.key, o.size, 'new']))
    expect(summary.cost).toEqual(estimateCost(1, 3, bytes))
    expect(h.gets()).toBe(0)
    expect(await h.ingestLog()).toEqual([])
    expect(await h.countRows()).toBe(0)
  })

  it('refuses a second run on the same database while one is in progress, naming the holder', async () => {
    const { key } = await h.putEvents('slow.parquet', oneTwap(8))
    h.server.injectFault({ op: 'get', key, kind: 'delay', delayMs: 1_500, times: 1 })
    // On PostgreSQL the second run is another connection pool, as another process would be;
    // the embedded engine belongs to one process, so there it is the same database object.
    const second = engine === 'postgres' ? await openDb({ databaseUrl: h.store.env.DATABASE_URL, dataDir: h.dir }) : h.db
    try {
      const running = h.run()
      await until(() => h.gets(key) === 1, 'the first run to request slow.parquet')
      const refused = h.run({}, { db: second })
      await expect(refused).rejects.toBeInstanceOf(EtlBusyError)
      await expect(refused).rejects.toThrow(engine === 'postgres'
        ? new RegExp(`^another ETL run holds PostgreSQL at .*: hl-twap etl \\(pid ${process.pid} on [^)]+\\) \\(server pid \\d+`)
        : `an ETL run is already in progress in this process (pid ${process.pid})`)
      expect(await running).toMatchObject({ objectsOk: 1, rowsInserted: 2 })
      expect(await h.run({}, { db: second })).toMatchObject({ objectsOk: 0, objectsSkipped: 1 })
    } finally {
      if (second !== h.db) await second.close()
    }
  })
})
