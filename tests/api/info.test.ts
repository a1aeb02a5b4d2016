import type { AddressInfo } from 'node:net'
import { HttpTransport, InfoClient } from '@nktkas/hyperliquid'
import { TwapHistoryResponse, UserTwapSliceFillsResponse } from '@nktkas/hyperliquid/api/info'
import * as v from 'valibot'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TwapEvent } from '#src/decode/event.ts'
import { engine } from '../support/db.ts'
import { OTHER_WALLET, WALLET, createTestApi, loadEvents, loadFills, twapEvent, twapLifecycle, type TestApi } from '../support/api.ts'
import { makeFills, type SourceFill } from '../support/lz4.ts'

/** A wallet whose 2,500 events are spread over seconds holding seven events each. */
const BUSY_WALLET = '0x' + '12'.repeat(20)
/** A wallet whose TWAP id is past 2^53 (the SDK's schema takes safe integers only). */
const BIG_ID_WALLET = '0x' + '56'.repeat(20)
/** A wallet with 2,100 events inside one second: more than a page. */
const BURST_WALLET = '0x' + '34'.repeat(20)
const BUSY_START = Date.UTC(2025, 9, 1)

function busyEvents(): TwapEvent[] {
  return Array.from({ length: 2500 }, (_, i) => twapEvent({
    twapId: String(5_000_000 + i), wallet: BUSY_WALLET,
    ts: new Date(BUSY_START + Math.floor(i / 7) * 1000 + (i % 7) * 3).toISOString(),
  }))
}

function burstEvents(): TwapEvent[] {
  return Array.from({ length: 2100 }, (_, i) => twapEvent({
    twapId: String(6_000_000 + i), wallet: BURST_WALLET, ts: new Date(BUSY_START + (i % 1000)).toISOString(),
  }))
}

type HistoryRecord = v.InferOutput<typeof TwapHistoryResponse>[number]

/** Every field's path in a JSON value (`[0].state.coin`…), sorted. */
function fieldPaths(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => fieldPaths(item, `${path}[${i}]`))
  if (value === null || typeof value !== 'object') return [path]
  return Object.entries(value).flatMap(([key, item]) => fieldPaths(item, `${path}.${key}`)).sort()
}

describe(`POST /info on ${engine}`, () => {
  let api: TestApi
  let client: InfoClient

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      ...twapLifecycle('101', '2025-11-03T12:00:00Z', { asset: 'HYPE' }),
      twapEvent({ twapId: '102', ts: '2025-11-04T09:00:00.5Z', placedAt: '2025-11-04T09:00:00.5Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0', side: 'A', reduceOnly: true }),
      twapEvent({ twapId: '102', ts: '2025-11-04T09:01:00Z', placedAt: '2025-11-04T09:00:00.5Z', status: 'error: Insufficient margin to place order.', sizeExecuted: '0.0', notionalExecuted: '0.0', side: 'A', reduceOnly: true }),
      twapEvent({ twapId: '104', ts: '2025-11-05T10:00:00Z', status: 'terminated', sizeExecuted: '12.5', notionalExecuted: '1131.25' }),
      twapEvent({ twapId: '9007199254740993', wallet: BIG_ID_WALLET, status: 'terminated' }),
      twapEvent({ twapId: '103', wallet: OTHER_WALLET }),
    ], 'raw/twap_statuses/2025-11.parquet')
    await loadEvents(api.store.db, busyEvents(), 'raw/twap_statuses/busy.parquet')
    await loadEvents(api.store.db, burstEvents(), 'raw/twap_statuses/burst.parquet')
    await api.app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = api.app.server.address() as AddressInfo
    client = new InfoClient({ transport: new HttpTransport({ apiUrl: `http://127.0.0.1:${port}` }) })
  })
  afterAll(() => api?.destroy())

  /**
   * Checks an answer with the SDK's own response schema (field names, nesting, types) and
   * that it holds no field the schema does not know, which parsing alone would drop.
   */
  function checked(records: unknown): HistoryRecord[] {
    expect(fieldPaths(v.parse(TwapHistoryResponse, records))).toEqual(fieldPaths(records))
    return records as HistoryRecord[]
  }

  it('answers twapHistory through Hyperliquid\'s SDK in its exact shape, mixed-case user included', async () => {
    const records = checked(await client.twapHistory({ user: WALLET.toUpperCase().replace('0X', '0x') as `0x${string}` }))
    expect(records).toHaveLength(5)
    expect(records[0]).toEqual({
      time: Date.parse('2025-11-03T12:00:00Z') / 1000,
      state: {
        coin: 'HYPE', executedNtl: '0.0', executedSz: '0.0', minutes: 30, randomize: true, reduceOnly: false,
        side: 'B', sz: '100.0', timestamp: Date.parse('2025-11-03T12:00:00Z'), user: WALLET,
      },
      status: { status: 'activated' },
      twapId: 101,
    })
    expect(records.map((r) => [r.twapId, r.status])).toEqual([
      [101, { status: 'activated' }],
      [101, { status: 'finished' }],
      [102, { status: 'activated' }],
      [102, { status: 'error', description: 'Insufficient margin to place order.' }],
      [104, { status: 'terminated' }],
    ])
    expect(records[2]?.state.timestamp).toBe(Date.parse('2025-11-04T09:00:00.5Z'))
  })

  it('writes TWAP ids past 2^53 with every digit', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: { type: 'twapHistory', user: BIG_ID_WALLET } })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    expect(res.body).toMatch(/"twapId" ?: ?9007199254740993 ?}\]$/)
  })

  it('agrees with /api/v1/twaps on every event', async () => {
    const records = checked(await client.twapHistory({ user: WALLET }))
    const page = (await api.app.inject(`/api/v1/twaps?wallet=${WALLET}&start=2025-01-01&end=2026-01-01T00:00:00Z&latest_per_twap=false`)).json<{
      twaps: { twap_id: string; events: { ts: string; status: string; executed: { size: string; notional: string } }[] }[]
    }>()
    const events = page.twaps.flatMap((t) => t.events.map((e) => [t.twap_id, Math.floor(Date.parse(e.ts) / 1000), e.executed.size, e.executed.notional]))
    const fromInfo = records.map((r) => [String(r.twapId), r.time, r.state.executedSz, r.state.executedNtl])
    expect(fromInfo.sort()).toEqual(events.sort())
  })

  it('takes startTime and endTime (ms, inclusive) on twapHistory', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: {
      type: 'twapHistory', user: WALLET, startTime: Date.parse('2025-11-03T12:30:00Z'), endTime: Date.parse('2025-11-04T09:01:00Z'),
    } })
    const records = checked(res.json())
    expect(records.map((r) => [r.twapId, r.status.status])).toEqual([[101, 'finished'], [102, 'activated'], [102, 'error']])
  })

  it('pages 2,000 records at most and never splits a second, so the client loop reads each event exactly once', async () => {
    const seen: string[] = []
    let startTime = 0
    let pages = 0
    for (;;) {
      const res = await api.app.inject({ method: 'POST', url: '/info', payload: { type: 'twapHistory', user: BUSY_WALLET, startTime } })
      const records = checked(res.json())
      pages++
      expect(records.length).toBeLessThanOrEqual(2000)
      if (records.length === 0) break
      seen.push(...records.map((r) => `${r.twapId}/${r.status.status}`))
      startTime = ((records.at(-1) as HistoryRecord).time + 1) * 1000
    }
    expect(pages).toBe(3)
    expect(seen).toHaveLength(2500)
    expect(new Set(seen).size).toBe(2500)
  })

  it('answers a second that holds more than a page whole, so a client can get past it', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: { type: 'twapHistory', user: BURST_WALLET, startTime: 0 } })
    const records = checked(res.json())
    expect(records).toHaveLength(2100)
    expect(new Set(records.map((r) => r.time))).toEqual(new Set([BUSY_START / 1000]))
  })

  it('without a time range answers the latest 2,000 events, oldest first', async () => {
    const records = checked(await client.twapHistory({ user: BUSY_WALLET as `0x${string}` }))
    expect(records).toHaveLength(2000)
    expect(records[0]?.twapId).toBe(5_000_500)
    expect(records.at(-1)?.twapId).toBe(5_002_499)
  })

  it('answers an empty array for a wallet with no TWAPs', async () => {
    expect(await client.twapHistory({ user: '0x' + '00'.repeat(20) as `0x${string}` })).toEqual([])
  })

  describe('answers a bad request with a 422 problem naming the field', () => {
    const cases: [string, string | object, string, RegExp][] = [
      ['an unsupported type', { type: 'clearinghouseState', user: WALLET }, 'type', /"clearinghouseState" is not supported; this service answers twapHistory, userTwapSliceFills, userTwapSliceFillsByTime/],
      ['no type', { user: WALLET }, 'type', /is required/],
      ['no user', { type: 'twapHistory' }, 'user', /is required/],
      ['a malformed user', { type: 'twapHistory', user: '0x123' }, 'user', /0x followed by 40 hex digits/],
      ['a fractional startTime', { type: 'twapHistory', user: WALLET, startTime: 1.5 }, 'startTime', /whole number of epoch milliseconds/],
      ['a startTime as text', { type: 'twapHistory', user: WALLET, startTime: '1700000000000' }, 'startTime', /whole number/],
      ['endTime before startTime', { type: 'twapHistory', user: WALLET, startTime: 10, endTime: 5 }, 'endTime', /before startTime/],
      ['a field the type does not take', { type: 'twapHistory', user: WALLET, dex: 'xyz' }, 'dex', /is not a field of twapHistory/],
      ['a body that is not JSON', '{"type": "twapHistory",', 'body', /must be a JSON object/],
      ['a JSON array', '[1, 2]', 'body', /must be a JSON object/],
    ]
    it.each(cases)('%s', async (_name, payload, parameter, message) => {
      const res = await api.app.inject({
        method: 'POST', url: '/info', headers: { 'content-type': 'application/json' },
        payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
      })
      expect(res.statusCode).toBe(422)
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/)
      const problem = res.json<{ errors: { parameter: string; message: string }[] }>()
      expect(problem.errors[0]?.parameter).toBe(parameter)
      expect(problem.errors[0]?.message).toMatch(message)
    })
  })

  it('reads a body sent without a JSON content type', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', headers: { 'content-type': 'text/plain' }, payload: JSON.stringify({ type: 'twapHistory', user: WALLET }) })
    expect(res.statusCode).toBe(200)
    expect(checked(res.json())).toHaveLength(5)
  })
})

describe(`POST /info with API keys on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => { api = await createTestApi({ api: { apiKeys: ['secret-key'] } }) })
  afterAll(() => api?.destroy())

  it('requires a key, like the rest of the API', async () => {
    const body = { type: 'twapHistory', user: WALLET }
    expect((await api.app.inject({ method: 'POST', url: '/info', payload: body })).statusCode).toBe(401)
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: body, headers: { 'x-api-key': 'secret-key' } })
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual([])
  })
})

/** A wallet with 25,000 TWAP slice fills, three to a millisecond, ids within 2^53 (the SDK's schema takes safe integers only). */
const FILLS_WALLET = '0x' + '78'.repeat(20)
const FILLS_START = Date.UTC(2025, 9, 27, 6)

function walletFills(): [string, SourceFill][] {
  return makeFills({ wallets: [FILLS_WALLET], count: 25_000, twapShare: 1, twapIds: [1_305_284n, 1_305_285n], seed: 11, start: FILLS_START })
    .map(([user, fill], i) => [user, { ...fill, time: FILLS_START + Math.floor(i / 3), tid: 1_000_000_000_000n + BigInt(i), oid: 2_000_000_000_000n + BigInt(i) }])
}

type SliceFill = v.InferOutput<typeof UserTwapSliceFillsResponse>[number]

describe(`POST /info slice fills on ${engine}`, () => {
  let api: TestApi
  let client: InfoClient
  const fills = walletFills()
  // One order's sweep of three makers at one instant, to aggregate; and a fill with ids past 2^53 and the optional fields.
  const sweep: [string, SourceFill][] = [0, 1, 2].map((i) => [OTHER_WALLET, {
    ...(fills[0] as [string, SourceFill])[1], time: FILLS_START - 5000, oid: 42n, tid: 500n + BigInt(i), px: ['10.0', '10.5', '11'][i]!, sz: ['1', '2', '1.5'][i]!,
    fee: '0.01', closedPnl: '0.5', twapId: 77n,
  }])
  const big: [string, SourceFill] = [OTHER_WALLET, {
    ...(fills[1] as [string, SourceFill])[1], time: FILLS_START - 1000, oid: 9_007_199_254_740_993n, tid: 990_908_538_720_549_123n, twapId: 78n,
    builderFee: '0.002', cloid: '0x00000000000000000000000000000001',
  }]

  beforeAll(async () => {
    api = await createTestApi()
    await loadFills(api.store.db, [...sweep, big, ...fills], 'node_fills_by_block/hourly/20251027/6.lz4', 50)
    await api.app.listen({ port: 0, host: '127.0.0.1' })
    client = new InfoClient({ transport: new HttpTransport({ apiUrl: `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}` }) })
  })
  afterAll(() => api?.destroy())

  function checkedFills(records: unknown): SliceFill[] {
    expect(fieldPaths(v.parse(UserTwapSliceFillsResponse, records))).toEqual(fieldPaths(records))
    return records as SliceFill[]
  }

  it('walks 25,000 slice fills with the SDK\'s loop by time, each exactly once, in Hyperliquid\'s shape', async () => {
    const seen: number[] = []
    let startTime = 0
    let responses = 0
    for (;;) {
      const page = checkedFills(await client.userTwapSliceFillsByTime({ user: FILLS_WALLET as `0x${string}`, startTime }))
      responses++
      expect(page.length).toBeLessThanOrEqual(2000)
      if (page.length === 0) break
      seen.push(...page.map((r) => r.fill.tid))
      startTime = (page.at(-1) as SliceFill).fill.time + 1
    }
    expect(responses).toBeGreaterThan(12)
    expect(seen).toHaveLength(25_000)
    expect(new Set(seen).size).toBe(25_000)
    expect(seen).toEqual([...seen].sort((a, b) => a - b))
  })

  it('gives each fill as the node wrote it, with its TWAP id beside it', async () => {
    const [first] = checkedFills(await client.userTwapSliceFillsByTime({ user: FILLS_WALLET as `0x${string}`, startTime: FILLS_START, endTime: FILLS_START }))
    const source = (fills[0] as [string, SourceFill])[1]
    expect(first).toEqual({
      fill: {
        coin: source.coin, px: source.px, sz: source.sz, side: source.side, time: source.time, startPosition: source.startPosition,
        dir: source.dir, closedPnl: source.closedPnl, hash: source.hash, oid: Number(source.oid), crossed: source.crossed,
        fee: source.fee, tid: Number(source.tid), feeToken: source.feeToken, twapId: Number(source.twapId),
      },
      twapId: Number(source.twapId),
    })
  })

  it('agrees with /api/v1/fills over a range', async () => {
    const endTime = FILLS_START + 599
    const page = checkedFills(await client.userTwapSliceFillsByTime({ user: FILLS_WALLET as `0x${string}`, startTime: FILLS_START, endTime }))
    const rest = (await api.app.inject(`/api/v1/fills?wallet=${FILLS_WALLET}&start=${new Date(FILLS_START).toISOString()}&end=${new Date(endTime).toISOString()}&limit=10000`))
      .json<{ fills: { tid: string }[] }>()
    expect(page.map((r) => String(r.fill.tid)).sort()).toEqual(rest.fills.map((f) => f.tid).sort())
    expect(page).toHaveLength(1800)
  })

  it('answers userTwapSliceFills with the latest 2,000, newest first', async () => {
    const page = checkedFills(await client.userTwapSliceFills({ user: FILLS_WALLET as `0x${string}` }))
    expect(page).toHaveLength(2000)
    expect(page[0]?.fill.tid).toBe(1_000_000_024_999)
    expect(page.at(-1)?.fill.tid).toBe(1_000_000_023_000)
  })

  it('keeps every digit of ids past 2^53 and every optional field', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: { type: 'userTwapSliceFillsByTime', user: OTHER_WALLET, startTime: FILLS_START - 1000 } })
    expect(res.statusCode).toBe(200)
    expect(res.body).toMatch(/"tid" ?: ?990908538720549123\b/)
    expect(res.body).toMatch(/"oid" ?: ?9007199254740993\b/)
    const [record] = res.json<{ fill: Record<string, unknown> }[]>()
    expect(record?.fill).toMatchObject({ builderFee: '0.002', cloid: '0x00000000000000000000000000000001' })
  })

  it('merges one order\'s fills of one instant with aggregateByTime: sizes, fees and PnL summed, the price their weighted mean', async () => {
    const body = { type: 'userTwapSliceFillsByTime', user: OTHER_WALLET, startTime: FILLS_START - 5000, endTime: FILLS_START - 5000 }
    const plain = (await api.app.inject({ method: 'POST', url: '/info', payload: body })).json<{ fill: Record<string, unknown> }[]>()
    expect(plain.map((r) => r.fill.tid)).toEqual([500, 501, 502])
    const merged = (await api.app.inject({ method: 'POST', url: '/info', payload: { ...body, aggregateByTime: true } })).json<{ fill: Record<string, unknown>; twapId: number }[]>()
    expect(merged).toHaveLength(1)
    // (10·1 + 10.5·2 + 11·1.5) / 4.5 = 47.5 / 4.5
    expect(merged[0]?.fill).toMatchObject({ tid: 500, oid: 42, sz: '4.5', fee: '0.03', closedPnl: '1.5' })
    expect(Number(merged[0]?.fill.px)).toBeCloseTo(47.5 / 4.5, 12)
    expect(merged[0]?.twapId).toBe(77)
  })

  it('requires startTime for userTwapSliceFillsByTime', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/info', payload: { type: 'userTwapSliceFillsByTime', user: FILLS_WALLET } })
    expect(res.statusCode).toBe(422)
    expect(res.json<{ errors: { parameter: string }[] }>().errors[0]?.parameter).toBe('startTime')
  })
})
