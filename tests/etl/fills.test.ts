import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { Db } from '#src/store/db.ts'
import { FILLS_PREFIX } from '../support/bucket.ts'
import { createTestStore, engine } from '../support/db.ts'
import { blockLine, lz4Frame, makeFills, type SourceFill } from '../support/lz4.ts'
import { parquetBytes } from '../support/parquet.ts'
import { logLines, twaps, until, useEtlHarness } from './harness.ts'

const A = '0x' + 'a1'.repeat(20)
const B = '0x' + 'b2'.repeat(20)
const EXIT = { ok: 0, failed: 1 }

type Event = [string, SourceFill]

/** Block lines of three events each, as `node_fills_by_block` writes them. */
function blockText(events: readonly Event[], firstBlock = 776_534_347): string {
  const lines: string[] = []
  for (let i = 0; i < events.length; i += 3) lines.push(blockLine(firstBlock + i, '2025-10-27T06:30:38.019609515', events.slice(i, i + 3)))
  return lines.join('\n') + '\n'
}

/** A TWAP slice fill of `wallet` in trade `tid`. */
function slice(wallet: string, tid: bigint, oid: bigint, twapId = 1_305_284n): Event {
  const [[, fill]] = makeFills({ wallets: [wallet], count: 1, twapShare: 1, twapIds: [twapId], seed: Number(tid % 1000n) }) as [Event]
  return [wallet, { ...fill, tid, oid }]
}

function plain(wallet: string, tid: bigint): Event {
  const [[, fill]] = makeFills({ wallets: [wallet], count: 1, twapShare: 0 }) as [Event]
  return [wallet, { ...fill, tid }]
}

describe(`hl-twap etl --dataset fills from a requester-pays bucket, on ${engine}`, () => {
  const h = useEtlHarness()

  async function putFills(name: string, events: readonly Event[] | string, lastModified?: Date): Promise<{ key: string; size: number }> {
    const body = await lz4Frame(typeof events === 'string' ? events : blockText(events), { blockChecksums: true })
    h.server.putObject(FILLS_PREFIX + name, body, { lastModified })
    return { key: FILLS_PREFIX + name, size: body.length }
  }

  const fills = (options: Parameters<typeof h.run>[0] = {}) => h.run({ dataset: 'fills', ...options })

  /** `wallet tid oid` of every stored fill with the objects holding it, sorted. */
  async function stored(db: Db = h.db): Promise<string[]> {
    const { rows } = await db.query<{ k: string }>(
      `SELECT f.wallet || ' ' || f.tid || ' ' || f.oid || ' ' || string_agg(o.s3_object_key, ',' ORDER BY o.s3_object_key) AS k
         FROM twap_fill f LEFT JOIN twap_fill_object o ON o.fill_id = f.id
        GROUP BY f.id ORDER BY 1`)
    return rows.map((r) => r.k)
  }

  /** Every stored column of every fill, in key order. */
  async function digest(db: Db = h.db): Promise<{ rows: number; md5: string }> {
    const { rows } = await db.query<{ rows: number; md5: string }>(
      `SELECT count(*)::int AS rows,
              md5(coalesce(string_agg(concat_ws('|', twap_id, wallet, time, coin, side, px, sz, fee, fee_token, builder_fee, closed_pnl,
                  start_position, dir, crossed, oid, tid, hash, block_number, block_time, s3_object_key, raw_payload::text), E'\\n'
                  ORDER BY tid, wallet, oid), '')) AS md5
         FROM twap_fill`)
    return rows[0]!
  }

  it('ingests every object of a fills prefix that lists over two pages; a second run fetches and inserts nothing', async () => {
    const objects = 1_001
    for (let i = 0; i < objects; i++) {
      await putFills(`2025102${i % 7}/${i}.lz4`, [slice(A, 10_000n + BigInt(i), 20_000n + BigInt(i)), plain(B, 50_000n + BigInt(i))])
    }
    h.server.putObject(FILLS_PREFIX + '20251027/_SUCCESS', '')
    h.server.putObject(FILLS_PREFIX + '20251027/', '')

    const first = await fills({ concurrency: 8 })

    expect(first).toMatchObject({ dataset: 'fills', objectsOk: objects, objectsFailed: 0, rowsInserted: objects, rowsDuplicate: 0, rowsRejected: 0, rowsDropped: objects })
    expect(h.server.count('list')).toBe(2)
    expect(h.gets()).toBe(objects)
    expect(h.server.requests.every((r) => r.requestPayer === 'requester')).toBe(true)
    const before = await digest()
    expect(before.rows).toBe(objects)

    h.server.requests.length = 0
    const second = await fills({ concurrency: 8 })
    expect(second).toMatchObject({ objectsOk: 0, objectsSkipped: objects, rowsInserted: 0, bytes: 0 })
    expect(h.gets()).toBe(0)
    expect(await digest()).toEqual(before)
    // The statuses dataset has its own log: the fills objects are not its objects.
    expect(await h.run({ dataset: 'statuses' })).toMatchObject({ objectsOk: 0, objectsSkipped: 0, objectsFailed: 0 })
  }, 180_000)

  it('stores a fill once however many objects hold it, keeps both sides of one trade, and counts fills without a TWAP id', async () => {
    const buyer = slice(A, 990_908_538_720_549_001n, 9_007_199_254_740_993n, 9_007_199_254_740_995n)
    const seller = slice(B, 990_908_538_720_549_001n, 9_007_199_254_740_997n, 77n)
    const a = await putFills('20251027/6.lz4', [buyer, seller, plain(A, 1n)])
    const b = await putFills('20251027/7.lz4', [buyer, plain(B, 2n), plain(B, 3n)])

    expect(await fills({ concurrency: 1 })).toMatchObject({ objectsOk: 2, rowsInserted: 2, rowsDuplicate: 1, rowsDropped: 3, rowsRejected: 0 })
    expect(await stored()).toEqual([
      `${A} 990908538720549001 9007199254740993 ${a.key},${b.key}`,
      `${B} 990908538720549001 9007199254740997 ${a.key}`,
    ])
    const { rows } = await h.db.query<{ twap_id: string; tid: string; raw_tid: string; raw_twap: string }>(
      `SELECT twap_id, tid, raw_payload->>'tid' AS raw_tid, raw_payload->>'twapId' AS raw_twap FROM twap_fill ORDER BY wallet`)
    expect(rows).toEqual([
      { twap_id: '9007199254740995', tid: '990908538720549001', raw_tid: '990908538720549001', raw_twap: '9007199254740995' },
      { twap_id: '77', tid: '990908538720549001', raw_tid: '990908538720549001', raw_twap: '77' },
    ])

    // Object a is rewritten without the seller's side: only the fills no other object holds go.
    const fresh = slice(A, 42n, 43n)
    h.server.putObject(a.key, await lz4Frame(blockText([buyer, fresh])), { lastModified: new Date(Date.now() + 60_000) })
    expect(await fills()).toMatchObject({ objectsOk: 1, objectsSkipped: 1, rowsInserted: 1, rowsDuplicate: 1 })
    expect(await stored()).toEqual([
      `${A} 42 43 ${a.key}`,
      `${A} 990908538720549001 9007199254740993 ${a.key},${b.key}`,
    ].sort())
  })

  it('fails an object that is not LZ4, one cut short and one with a bad checksum, with their errors; the rest lands with its bad lines counted', async () => {
    const good = await putFills('20251027/1.lz4', [slice(A, 1n, 1n), slice(A, 2n, 2n)])
    h.server.putObject(FILLS_PREFIX + '20251027/2.lz4', blockText([slice(A, 3n, 3n)]))
    const whole = await lz4Frame(blockText(makeFills({ wallets: [A], count: 3000, twapShare: 1 })), { blockChecksums: true })
    h.server.putObject(FILLS_PREFIX + '20251027/3.lz4', whole.subarray(0, whole.length - 500))
    const flipped = whole.slice()
    flipped[100] = flipped[100]! ^ 0xff
    h.server.putObject(FILLS_PREFIX + '20251027/4.lz4', flipped)
    const mixed = await putFills('20251027/5.lz4', blockText([slice(A, 5n, 5n)]) + 'not json at all\n' + blockText([[A, { ...slice(A, 6n, 6n)[1], px: 'n/a' }]]))

    const { summary, results } = await h.runReported({ dataset: 'fills' })

    expect(summary).toMatchObject({ objectsOk: 2, objectsFailed: 3, rowsInserted: 3, rowsRejected: 2 })
    expect(Object.fromEntries(summary.failures.map((f) => [f.key.slice(FILLS_PREFIX.length), f.error]))).toEqual({
      '20251027/2.lz4': 'not an LZ4 frame: the file does not start with the LZ4 magic number',
      '20251027/3.lz4': expect.stringMatching(/^truncated LZ4 frame: the input ends inside the block at byte \d+$/),
      '20251027/4.lz4': expect.stringMatching(/^bad LZ4 block checksum at byte \d+$/),
    })
    expect(results.get(mixed.key)!.rejections.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^line 2 is not JSON: /),
      'line 3, event 0: px "n/a" is not a decimal number',
    ])
    expect(results.get(good.key)).toMatchObject({ ok: true, inserted: 2 })
    expect((await h.ingestLog()).filter((r) => r.error_text !== null)).toHaveLength(3)
    expect(await h.db.query('SELECT 1 FROM twap_fill WHERE s3_object_key LIKE $1', ['%/3.lz4']).then((r) => r.rowCount)).toBe(0)
  })

  it('plans a dry run of the fills bucket with the requester-pays bill, fetching nothing; --object-key and --since apply to fills', async () => {
    const old = await putFills('20251026/23.lz4', [slice(A, 1n, 1n)], new Date('2025-10-27T00:30:00Z'))
    const recent = await putFills('20251027/0.lz4', [slice(A, 2n, 2n)], new Date('2025-10-27T01:30:00Z'))

    const dry = await fills({ dryRun: true })
    expect(dry).toMatchObject({ dryRun: true, planned: [{ key: old.key }, { key: recent.key }], cost: { listRequests: 1, getRequests: 2, bytes: old.size + recent.size } })
    expect(h.gets()).toBe(0)

    expect(await fills({ source: { kind: 'incremental', since: new Date('2025-10-27T01:00:00Z') } })).toMatchObject({ objectsOk: 1, rowsInserted: 1 })
    expect(await stored()).toEqual([`${A} 2 2 ${recent.key}`])
    expect(await fills({ source: { kind: 'object', key: old.key } })).toMatchObject({ objectsOk: 1, rowsInserted: 1 })
    await expect(fills({ source: { kind: 'object', key: '20251027/0.lz4' } })).rejects.toThrow(
      `no such object (--object-key takes the whole key, FILLS_S3_PREFIX included)`)
  })

  it('--local-file takes .lz4 files and directories of them for --dataset fills', async () => {
    await mkdir(join(h.dir, 'fills/20251027'), { recursive: true })
    await writeFile(join(h.dir, 'fills/20251027/0.lz4'), await lz4Frame(blockText([slice(A, 1n, 1n), slice(B, 1n, 2n)])))
    await writeFile(join(h.dir, 'fills/20251027/notes.txt'), 'not fills')

    expect(await fills({ source: { kind: 'local', paths: [join(h.dir, 'fills')] } })).toMatchObject({ objectsOk: 1, rowsInserted: 2 })
    expect(await h.countRows()).toBe(0)
  })

  it('reads parquet fills that have a TWAP id column, and fails a parquet file without one, saying so', async () => {
    const events = [slice(A, 1n << 60n, 7n), plain(B, 8n), slice(B, 9n, 10n, 42n)]
    const column = (name: string, type: 'STRING' | 'INT64' | 'BOOLEAN', value: (e: Event) => unknown) => ({ name, type, data: events.map(value), nullable: true })
    const columns = [
      column('user', 'STRING', ([u]) => u), column('coin', 'STRING', ([, f]) => f.coin), column('px', 'STRING', ([, f]) => f.px),
      column('sz', 'STRING', ([, f]) => f.sz), column('side', 'STRING', ([, f]) => f.side), column('time', 'INT64', ([, f]) => BigInt(f.time)),
      column('dir', 'STRING', ([, f]) => f.dir), column('closedPnl', 'STRING', ([, f]) => f.closedPnl), column('crossed', 'BOOLEAN', ([, f]) => f.crossed),
      column('fee', 'STRING', ([, f]) => f.fee), column('tid', 'INT64', ([, f]) => f.tid), column('oid', 'INT64', ([, f]) => f.oid),
      column('feeToken', 'STRING', ([, f]) => f.feeToken),
    ]
    const withId = new Uint8Array(await parquetBytes([...columns, column('twapId', 'INT64', ([, f]) => f.twapId)]))
    const withoutId = new Uint8Array(await parquetBytes(columns))
    h.server.putObject(FILLS_PREFIX + '2025/10/27/06/part-0.parquet', withId)
    h.server.putObject(FILLS_PREFIX + '2025/10/27/07/part-0.parquet', withoutId)

    const summary = await fills()

    expect(summary).toMatchObject({ objectsOk: 1, objectsFailed: 1, rowsInserted: 2, rowsDropped: 1, rowsRejected: 0 })
    expect(summary.failures).toEqual([{ key: FILLS_PREFIX + '2025/10/27/07/part-0.parquet', error: expect.stringMatching(/^no TWAP id column \(twapId or twap_id\): its fills cannot be told from ordinary ones \(file has: user, coin, /) }])
    const { rows } = await h.db.query<{ twap_id: string; tid: string; time: string; raw_tid: string }>(`SELECT twap_id, tid, time, raw_payload->>'tid' AS raw_tid FROM twap_fill ORDER BY twap_id`)
    expect(rows.map((r) => [r.twap_id, r.tid, r.raw_tid])).toEqual([['1305284', String(1n << 60n), String(1n << 60n)], ['42', '9', '9']])
  })

  it('hl-twap etl --dataset all ingests the statuses, then the fills; an object flag needs one dataset', async () => {
    await h.putEvents('hourly/2025/11/03/00/part-0.parquet', twaps(7_000, 2))
    await putFills('20251103/0.lz4', [slice(A, 1n, 1n), plain(B, 2n)])

    const all = await h.cli(['etl', '--dataset', 'all'])

    expect(all.code, all.stderr).toBe(EXIT.ok)
    expect(logLines(all.stderr).filter((l) => 'objectsOk' in l).map((l) => [l.dataset, l.objectsOk, l.rowsInserted])).toEqual([['statuses', 1, 4], ['fills', 1, 1]])
    expect(await stored()).toHaveLength(1)
    const mixed = await h.cli(['etl', '--dataset', 'all', '--local-file', h.dir])
    expect(mixed.code).toBe(2)
    expect(mixed.stderr).toBe('hl-twap: --local-file names objects of one dataset: add --dataset statuses or --dataset fills\n')
  })

  it('a fills run killed with SIGKILL mid-object is completed by the next run, with exactly the fills of a clean run', async () => {
    const objects = await Promise.all([0, 1, 2, 3, 4].map((i) =>
      putFills(`20251027/${i}.lz4`, makeFills({ wallets: [A, B], count: 60, twapShare: 0.5, seed: i + 1, start: 1_761_546_638_019 + i * 3_600_000 }).map(([u, f]) => [u, { ...f, tid: f.tid + BigInt(i * 1000) }] as Event))))

    await h.released(async () => {
      h.server.injectFault({ op: 'get', key: objects[2]!.key, kind: 'delay', delayMs: 60_000, times: 1 })
      const killed = h.startCli(['etl', '--dataset', 'fills', '--concurrency', '1'])
      await until(() => h.gets(objects[2]!.key) === 1, 'the ETL child to request the third object')
      killed.child.kill('SIGKILL')
      expect(await killed.exited).toMatchObject({ signal: 'SIGKILL' })
      // ETL_DATASETS decides what a plain run ingests.
      const rerun = await h.cli(['etl'], { keepStore: true, env: { ETL_DATASETS: 'fills' } })
      expect(rerun.code, rerun.stderr).toBe(EXIT.ok)
      expect(logLines(rerun.stderr).find((l) => 'objectsOk' in l)).toMatchObject({ dataset: 'fills', objectsOk: 3, objectsSkipped: 2 })
    })

    const clean = await createTestStore()
    try {
      await h.run({ dataset: 'fills' }, { db: clean.db })
      expect(await digest()).toEqual(await digest(clean.db))
      expect((await digest()).rows).toBeGreaterThan(100)
    } finally {
      await clean.destroy()
    }
  })
})
