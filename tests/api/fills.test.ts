import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, twapLifecycle, twapsUrl, WALLET, OTHER_WALLET, type TestApi } from '../support/api.ts'
import { makeFills, type SourceFill } from '../support/lz4.ts'

type Event = [string, SourceFill]

const TWAP = '9007199254740995'
const OTHER_TWAP = '1305284'
const BIG_TID = 18_446_744_073_709_551_615n
const T0 = Date.parse('2025-10-27T06:00:00Z')

function fillsUrl(query: Record<string, string | number>): string {
  return '/api/v1/fills?' + new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
}

interface FillJson { twap_id: string; wallet: string; time: string; tid: string; oid: string; px: string; sz: string; coin: string; raw: Record<string, unknown> }

describe(`TWAP slice fills over the API, on ${engine}`, () => {
  let api: TestApi
  // 1,200 fills of WALLET: a third of TWAP's, a third of OTHER_TWAP's, a third ordinary; plus
  // the other side of one trade, a slice of OTHER_WALLET's own TWAP.
  const mine: Event[] = makeFills({ wallets: [WALLET], count: 1200, twapShare: 0.67, twapIds: [BigInt(TWAP), BigInt(OTHER_TWAP)], seed: 3, start: T0 })
  const firstSlice = mine.find(([, f]) => f.twapId !== null)!
  const bigSide: Event = [WALLET, { ...firstSlice[1], tid: BIG_TID, oid: 9_007_199_254_740_993n, twapId: BigInt(TWAP), time: T0 - 1000, fee: '-0.0012', feeToken: 'HYPE', builderFee: '0.01' }]
  const otherSide: Event = [OTHER_WALLET, { ...bigSide[1], oid: 9_007_199_254_740_999n, side: 'A', twapId: 555n }]
  const slices = [...mine.filter(([, f]) => f.twapId !== null), bigSide]

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [...twapLifecycle(TWAP, '2025-10-27T05:00:00Z', { minutes: 600 }), ...twapLifecycle('777', '2025-10-27T05:00:00Z')])
    await loadFills(api.store.db, [bigSide, otherSide, ...mine])
  })
  afterAll(() => api?.destroy())

  const get = (url: string) => api.app.inject(url)

  it('lists a TWAP\'s fills oldest first, with totals equal to sums computed in SQL from the stored fills', async () => {
    const res = await get(`/api/v1/twaps/${TWAP}/fills`)
    expect(res.statusCode).toBe(200)
    const body = res.json<{ twap_id: string; fills: FillJson[]; totals: Record<string, unknown> }>()
    const expected = slices.filter(([, f]) => String(f.twapId) === TWAP)
    expect(body.fills).toHaveLength(expected.length)
    const times = body.fills.map((f) => Date.parse(f.time))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(body.fills[0]).toMatchObject({ tid: String(BIG_TID), oid: '9007199254740993', wallet: WALLET, fee: '-0.0012', fee_token: 'HYPE', raw: { tid: BIG_TID.toString() } })
    expect(res.body).toContain(`"tid":"${BIG_TID}"`)
    expect(res.body).not.toMatch(/"tid":\d/)

    const { rows: [sums] } = await api.store.db.query<Record<string, boolean>>(
      `SELECT count(*) = $2::int AS count, sum(sz) = $3::numeric AS size, sum(px * sz) = $4::numeric AS notional,
              sum(px * sz) / sum(sz) = $5::numeric AS avg_price, coalesce(sum(builder_fee), 0) = $6::numeric AS builder_fee,
              sum(closed_pnl) = $7::numeric AS closed_pnl,
              (SELECT sum(fee) FROM twap_fill WHERE twap_id = $1 AND fee_token = 'USDC') = $8::numeric AS usdc,
              (SELECT sum(fee) FROM twap_fill WHERE twap_id = $1 AND fee_token = 'HYPE') = $9::numeric AS hype
         FROM twap_fill WHERE twap_id = $1`,
      [TWAP, body.totals.count, body.totals.size, body.totals.notional, body.totals.avg_price, body.totals.builder_fee, body.totals.closed_pnl,
        (body.totals.fees as { token: string; amount: string }[]).find((f) => f.token === 'USDC')?.amount,
        (body.totals.fees as { token: string; amount: string }[]).find((f) => f.token === 'HYPE')?.amount])
    expect(sums).toEqual({ count: true, size: true, notional: true, avg_price: true, builder_fee: true, closed_pnl: true, usdc: true, hype: true })
    expect(body.totals).toMatchObject({ count: expected.length, builder_fee: '0.01' })
    expect((body.totals.fees as unknown[]).length).toBe(2)
  })

  it('answers 404 for a TWAP it knows nothing of, and empty totals for a known TWAP without fills', async () => {
    const unknown = await get('/api/v1/twaps/424242/fills')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(unknown.json()).toMatchObject({ status: 404, detail: 'No TWAP with id 424242.' })
    const known = await get('/api/v1/twaps/777/fills')
    expect(known.json()).toEqual({ twap_id: '777', fills: [], totals: { count: 0, size: '0', notional: '0', avg_price: null, fees: [], builder_fee: '0', closed_pnl: '0' } })
    expect((await get('/api/v1/twaps/12x/fills')).statusCode).toBe(422)
  })

  it('keeps both sides of one trade: each wallet sees its own side of the tid', async () => {
    const range = { start: '2025-10-01', end: '2025-11-30' }
    const theirs = (await get(fillsUrl({ wallet: OTHER_WALLET, ...range }))).json<{ fills: FillJson[] }>().fills
    const ours = (await get(fillsUrl({ wallet: WALLET, ...range, twap_id: TWAP, limit: 10_000 }))).json<{ fills: FillJson[] }>().fills
    expect(theirs.map((f) => [f.tid, f.oid, f.twap_id])).toEqual([[String(BIG_TID), '9007199254740999', '555']])
    expect(ours.filter((f) => f.tid === String(BIG_TID)).map((f) => [f.oid, f.twap_id])).toEqual([['9007199254740993', TWAP]])
  })

  it('pages a wallet\'s fills newest first by cursor, the pages together being the whole range, filtered by coin and TWAP', async () => {
    const range = { wallet: WALLET.toUpperCase().replace('0X', '0x'), start: '2025-10-27T05:00:00Z', end: '2025-10-27T23:59:59Z' }
    const all: FillJson[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await get(fillsUrl({ ...range, limit: 150, ...(cursor ? { cursor } : {}) }))
      expect(res.statusCode, res.body).toBe(200)
      const page = res.json<{ fills: FillJson[]; next_cursor: string | null; wallet: string }>()
      expect(page.wallet).toBe(WALLET)
      all.push(...page.fills)
      cursor = page.next_cursor
      pages++
    } while (cursor)
    expect(all).toHaveLength(slices.length)
    expect(pages).toBe(Math.ceil(slices.length / 150))
    const times = all.map((f) => Date.parse(f.time))
    expect(times).toEqual([...times].sort((a, b) => b - a))
    expect(new Set(all.map((f) => `${f.tid} ${f.oid}`)).size).toBe(all.length)

    const hype = (await get(fillsUrl({ ...range, asset: 'HYPE', twap_id: OTHER_TWAP, limit: 10_000 }))).json<{ fills: FillJson[] }>().fills
    expect(hype.length).toBe(slices.filter(([, f]) => f.coin === 'HYPE' && String(f.twapId) === OTHER_TWAP).length)
    expect(hype.every((f) => f.coin === 'HYPE' && f.twap_id === OTHER_TWAP)).toBe(true)
    // Only fills in the range: the one a second before T0 is outside.
    const inside = (await get(fillsUrl({ wallet: WALLET, start: new Date(T0).toISOString(), end: '2025-10-28', limit: 10_000 }))).json<{ fills: FillJson[] }>().fills
    expect(inside).toHaveLength(slices.length - 1)
  })

  it('answers 422 naming each bad parameter, as the TWAP endpoints do', async () => {
    const bad = await get(fillsUrl({ wallet: 'nope', start: '2025-13-01', end: '2025-10-01', limit: 10_001, twap_id: 'x' }))
    expect(bad.statusCode).toBe(422)
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(bad.json<{ errors: { parameter: string }[] }>().errors.map((e) => e.parameter).sort()).toEqual(['limit', 'start', 'twap_id', 'wallet'])
    expect((await get(fillsUrl({ wallet: WALLET, start: '2025-11-02', end: '2025-11-01' }))).json()).toMatchObject({ status: 422, errors: [{ parameter: 'start' }, { parameter: 'end' }] })
    expect((await get(fillsUrl({ wallet: WALLET, end: '2025-11-01' }))).json()).toMatchObject({ status: 422, errors: [{ parameter: 'start', message: 'is required' }] })
    const first = (await get(fillsUrl({ wallet: WALLET, start: '2025-10-01', end: '2025-11-01', limit: 5 }))).json<{ next_cursor: string }>()
    const reused = await get(fillsUrl({ wallet: WALLET, start: '2025-10-01', end: '2025-11-01', twap_id: TWAP, cursor: first.next_cursor }))
    expect(reused.json()).toMatchObject({ status: 422, errors: [{ parameter: 'cursor' }] })
    const twapCursor = await get(twapsUrl({ wallet: WALLET, start: '2025-10-01', end: '2025-11-01', cursor: first.next_cursor }))
    expect(twapCursor.statusCode).toBe(422)
  })

  it('streams a wallet\'s fills as CSV and NDJSON with ids above 2^53 exact, NDJSON lines being the JSON fills', async () => {
    const range = { wallet: WALLET, start: '2025-01-01', end: '2025-12-31' }
    const csv = await get(fillsUrl({ ...range, format: 'csv' }))
    expect(csv.statusCode).toBe(200)
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(csv.headers['content-disposition']).toBe(`attachment; filename="fills_${WALLET}_20250101_20251231_incomplete.csv"`)
    const lines = csv.body.trimEnd().split('\n')
    expect(lines[0]).toBe('twap_id,wallet,time,coin,side,px,sz,fee,fee_token,builder_fee,closed_pnl,start_position,dir,crossed,oid,tid,hash,block_number,block_time,s3_object_key')
    expect(lines).toHaveLength(slices.length + 1)
    expect(lines.at(-1)).toMatch(new RegExp(`^${TWAP},${WALLET},2025-10-27T05:59:59Z,.*,9007199254740993,${BIG_TID},0x0{64},\\d+,2025-10-27T06:30:38.019609Z,local:`))

    const ndjson = await get(fillsUrl({ ...range, format: 'ndjson' }))
    expect(ndjson.headers['content-type']).toBe('application/x-ndjson; charset=utf-8')
    const page = (await get(fillsUrl({ ...range, limit: 10_000 }))).json<{ fills: unknown[] }>()
    expect(ndjson.body.trimEnd().split('\n').map((l) => JSON.parse(l))).toEqual(page.fills)
    expect(ndjson.body).toContain(`"tid":"${BIG_TID}"`)
    const accept = await api.app.inject({ url: fillsUrl(range), headers: { accept: 'text/csv' } })
    expect(accept.body).toBe(csv.body)
  })

  it('passes each stored fill on as the text the database holds, unless a number in it would not survive a double', async () => {
    // A wallet whose fills hold only numbers a double keeps (a 16-digit tid below 2^53), and
    // one fill with a tid past 2^53.
    const wallet = '0x' + 'ef'.repeat(20)
    const template = { ...firstSlice[1], twapId: 424_242n, time: T0 + 5000 }
    const safe: Event[] = [0, 1, 2].map((i) => [wallet, { ...template, tid: 1_075_394_543_376_098n + BigInt(i), oid: 123_456_789n + BigInt(i), hash: '0x' + 'ab12cd34'.repeat(8) }])
    const unsafe: Event = [wallet, { ...template, tid: BIG_TID - 1n, oid: 5n }]
    await loadFills(api.store.db, [...safe, unsafe], 'test/safe-ids.lz4')
    const { rows } = await api.store.db.query<{ tid: string; raw: string }>(
      'SELECT tid::text AS tid, raw_payload::text AS raw FROM twap_fill WHERE wallet = $1 ORDER BY tid::numeric', [wallet])
    expect(rows.map((r) => r.tid)).toEqual([...safe.map(([, f]) => String(f.tid)), String(BIG_TID - 1n)])
    const page = await get(fillsUrl({ wallet, start: '2025-01-01', end: '2025-12-31' }))
    const ndjson = await get(fillsUrl({ wallet, start: '2025-01-01', end: '2025-12-31', format: 'ndjson' }))
    const twapFills = await get('/api/v1/twaps/424242/fills')
    for (const res of [page, ndjson, twapFills]) {
      expect(res.statusCode, res.body).toBe(200)
      // PostgreSQL writes jsonb with a space after each colon, which JSON.stringify never does.
      for (const { raw } of rows.slice(0, 3)) expect(res.body).toContain(raw)
      expect(res.body).not.toContain(rows[3]!.raw)
      expect(res.body).not.toMatch(/"\\u0000\d+"/)
    }
    const byTid = new Map(page.json<{ fills: FillJson[] }>().fills.map((f) => [f.tid, f.raw]))
    expect(byTid.get(String(BIG_TID - 1n))).toMatchObject({ tid: String(BIG_TID - 1n), oid: 5 })
    expect(byTid.get('1075394543376098')).toMatchObject({ tid: 1_075_394_543_376_098, oid: 123_456_789, hash: safe[0]![1].hash })
  })

  it('adds each TWAP\'s fill totals to /api/v1/twaps in JSON, NDJSON and CSV when its fills are loaded', async () => {
    const range = { wallet: WALLET, start: '2025-10-01', end: '2025-11-01' }
    const totals = (await get(`/api/v1/twaps/${TWAP}/fills`)).json<{ totals: Record<string, unknown> }>().totals
    const page = (await get(twapsUrl(range))).json<{ twaps: { twap_id: string; fills?: unknown }[] }>()
    expect(page.twaps.find((t) => t.twap_id === TWAP)!.fills).toEqual(totals)
    expect(page.twaps.find((t) => t.twap_id === '777')).not.toHaveProperty('fills')
    const ndjson = (await get(twapsUrl({ ...range, format: 'ndjson' }))).body.trimEnd().split('\n').map((l) => JSON.parse(l) as { twap_id: string })
    expect(ndjson).toEqual(page.twaps)
    const csv = (await get(twapsUrl({ ...range, format: 'csv' }))).body.split('\n')
    const fees = (totals.fees as { token: string; amount: string }[]).map((f) => `${f.token}:${f.amount}`).join(';')
    expect(csv.find((l) => l.startsWith(`${TWAP},`))).toMatch(new RegExp(`,${totals.count},${totals.size},${totals.notional},${totals.avg_price},${fees},${totals.builder_fee},${totals.closed_pnl},(true|false)?$`))
    expect(csv.find((l) => l.startsWith('777,'))).toMatch(/,,,,,,,(true|false)?$/)
  })
})
