import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { OTHER_WALLET, WALLET, createTestApi, loadEvents, twapEvent, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

const RANGE = { wallet: WALLET, start: '2025-11-01', end: '2025-11-04' }

interface Page {
  wallet: string
  start: string
  end: string
  twaps: { twap_id: string; status: string; latest_ts: string; events?: { ts: string; status: string }[]; [key: string]: unknown }[]
  next_cursor: string | null
}

describe(`GET /api/v1/twaps on ${engine}`, () => {
  let api: TestApi
  afterEach(() => api?.destroy())

  async function get(query: Record<string, string | number | boolean>) {
    const res = await api.app.inject(twapsUrl(query))
    expect(res.statusCode, res.body).toBe(200)
    return res.json<Page>()
  }

  it('answers the documented shape, field by field, decimals as strings', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ ts: '2025-11-03T12:00:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
      twapEvent({ ts: '2025-11-03T12:30:00Z', status: 'finished' }),
    ])
    const page = await get(RANGE)
    expect(page).toEqual({
      wallet: WALLET,
      start: '2025-11-01T00:00:00Z',
      end: '2025-11-04T23:59:59.999999Z',
      twaps: [{
        twap_id: '123456',
        asset: 'SOL',
        side: 'B',
        status: 'finished',
        duration_minutes: 30,
        latest_ts: '2025-11-03T12:30:00Z',
        executed: { size: '100.0', notional: '9050.0' },
        requested_size: '100.0',
        avg_price: '90.5',
        created_at: '2025-11-03T12:00:00Z',
        reduce_only: false,
        randomize: true,
        raw: {
          time: '2025-11-03T12:30:00Z', twap_id: '123456', state_coin: 'SOL', state_user: WALLET, state_side: 'B',
          state_sz: '100.0', state_executedSz: '100.0', state_executedNtl: '9050.0', state_minutes: 30,
          state_reduceOnly: false, state_randomize: true, state_timestamp: Date.parse('2025-11-03T12:00:00Z'), status: 'finished',
        },
        reconciled: null,
      }],
      next_cursor: null,
      // The fixture's object names no hour: it covers the hour of its rows, one of the range's 96.
      coverage: { statuses: { complete: false, missing_hours: 95 }, fills: { complete: false, missing_hours: 96 } },
    })
  })

  it('keeps decimals exact, shows microseconds only when present, and gives no average without an execution', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', ts: '2025-11-03T01:00:00.417074Z', sizeExecuted: '2', notionalExecuted: '123456789012345678901234.000000000002' }),
      twapEvent({ twapId: '2', ts: '2025-11-03T02:00:00.5Z', status: 'terminated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
      twapEvent({ twapId: '3', ts: '2025-11-03T03:00:00Z', status: 'error: Insufficient margin', sizeExecuted: null, notionalExecuted: null, placedAt: null }),
    ])
    const byId = Object.fromEntries((await get(RANGE)).twaps.map((t) => [t.twap_id, t]))
    expect(byId['1']).toMatchObject({
      latest_ts: '2025-11-03T01:00:00.417074Z',
      executed: { size: '2', notional: '123456789012345678901234.000000000002' },
      avg_price: '61728394506172839450617.000000000001',
    })
    expect(byId['2']).toMatchObject({ latest_ts: '2025-11-03T02:00:00.5Z', status: 'terminated', avg_price: null })
    expect(byId['3']).toMatchObject({ status: 'error: Insufficient margin', executed: { size: null, notional: null }, avg_price: null, created_at: null })
  })

  it('passes each raw payload on as the text the database holds, in the page, the history and the NDJSON export', async () => {
    api = await createTestApi()
    // An asset that reads like a placeholder of the raw splice once serialised (a backslash, then u0000).
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', ts: '2025-11-03T01:00:00Z', status: 'activated', asset: '\\u00000' }),
      twapEvent({ twapId: '1', ts: '2025-11-03T02:00:00Z', asset: '\\u00000' }),
      twapEvent({ twapId: '2', ts: '2025-11-03T03:00:00Z' }),
    ])
    const { rows } = await api.store.db.query<{ twap_id: string; raw: string }>(
      'SELECT twap_id, raw_payload::text AS raw FROM twap_status ORDER BY ts', [])
    expect(rows).toHaveLength(3)
    // PostgreSQL writes jsonb with a space after each colon, which JSON.stringify never does.
    for (const { raw } of rows) expect(raw).toContain('": ')
    const page = await api.app.inject(twapsUrl({ ...RANGE, latest_per_twap: false }))
    const history = await api.app.inject('/api/v1/twaps/1')
    const ndjson = await api.app.inject(twapsUrl({ ...RANGE, latest_per_twap: false, format: 'ndjson' }))
    for (const [res, raws] of [[page, rows], [history, rows.slice(0, 2)], [ndjson, rows]] as const) {
      expect(res.statusCode, res.body).toBe(200)
      for (const { raw } of raws) expect(res.body).toContain(raw)
      expect(res.body).not.toMatch(/"\\u0000\d+"/)
    }
    const byId = Object.fromEntries(page.json<Page>().twaps.map((t) => [t.twap_id, t]))
    expect(byId['1']).toMatchObject({ asset: '\\u00000', raw: JSON.parse(rows[1]!.raw) as unknown })
    expect(byId['1']!.events!.map((e) => (e as unknown as { raw: unknown }).raw)).toEqual([JSON.parse(rows[0]!.raw), JSON.parse(rows[1]!.raw)])
    expect(history.json<{ rows: { raw: unknown }[] }>().rows.map((r) => r.raw)).toEqual([JSON.parse(rows[0]!.raw), JSON.parse(rows[1]!.raw)])
    expect(ndjson.body.trim().split('\n').map((line) => (JSON.parse(line) as { raw: unknown }).raw)).toEqual([JSON.parse(rows[2]!.raw), JSON.parse(rows[1]!.raw)])
  })

  it('ranks waitingForTrigger below activated and stopped above it at an equal time; an unknown word is not terminal, an error is', async () => {
    api = await createTestApi()
    const ts = '2025-11-03T12:00:00Z'
    // Each pair shares its time; `activated` is loaded second, so it has the larger id and
    // wins unless the other status is terminal.
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', ts, status: 'waitingForTrigger' }),
      twapEvent({ twapId: '2', ts, status: 'stopped' }),
      twapEvent({ twapId: '3', ts, status: 'somethingNew' }),
      twapEvent({ twapId: '4', ts, status: 'error: Reduce only order would increase position.' }),
    ], 'first.parquet')
    await loadEvents(api.store.db, ['1', '2', '3', '4'].map((twapId) => twapEvent({ twapId, ts, status: 'activated' })), 'second.parquet')
    const status = Object.fromEntries((await get(RANGE)).twaps.map((t) => [t.twap_id, t.status]))
    expect(status).toEqual({ '1': 'activated', '2': 'stopped', '3': 'activated', '4': 'error: Reduce only order would increase position.' })
    const terminal = await api.store.db.query<{ status: string; is_terminal: boolean }>('SELECT DISTINCT status, is_terminal FROM twap_status ORDER BY status')
    expect(Object.fromEntries(terminal.rows.map((r) => [r.status, r.is_terminal]))).toEqual({
      activated: false, waitingForTrigger: false, somethingNew: false, stopped: true, 'error: Reduce only order would increase position.': true,
    })
  })

  it('summarises a TWAP by its latest event in the range, a terminal status winning an equal time', async () => {
    api = await createTestApi()
    const ts = '2025-11-03T12:30:00Z'
    // Finished loaded first, so the activated row gets the larger id: the status must still win.
    await loadEvents(api.store.db, [twapEvent({ twapId: '7', ts, status: 'finished' })], 'a.parquet')
    await loadEvents(api.store.db, [twapEvent({ twapId: '7', ts, status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' })], 'b.parquet')
    const page = await get(RANGE)
    expect(page.twaps).toHaveLength(1)
    expect(page.twaps[0]).toMatchObject({ twap_id: '7', status: 'finished', latest_ts: ts, executed: { size: '100.0', notional: '9050.0' } })
  })

  it('includes events exactly at start and end and excludes those a microsecond outside', async () => {
    api = await createTestApi()
    const start = '2025-11-01T00:00:00.000010Z'
    const end = '2025-11-02T00:00:00.000010Z'
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', ts: '2025-11-01T00:00:00.000009Z' }),
      twapEvent({ twapId: '2', ts: start }),
      twapEvent({ twapId: '3', ts: end }),
      twapEvent({ twapId: '4', ts: '2025-11-02T00:00:00.000011Z' }),
    ])
    const page = await get({ wallet: WALLET, start, end })
    expect(page.twaps.map((t) => t.twap_id)).toEqual(['3', '2'])
    expect([page.start, page.end]).toEqual(['2025-11-01T00:00:00.00001Z', '2025-11-02T00:00:00.00001Z'])
  })

  it('reads start and end in any zone, or none (UTC), and echoes them in UTC', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [twapEvent({ twapId: '1', ts: '2025-11-01T00:00:00Z' })])
    const local = await get({ wallet: WALLET, start: '2025-11-01T01:00:00+01:00', end: '2025-10-31T20:00:00-04:00' })
    expect([local.start, local.end, local.twaps.length]).toEqual(['2025-11-01T00:00:00Z', '2025-11-01T00:00:00Z', 1])
    const naive = await get({ wallet: WALLET, start: '2025-11-01T00:00', end: '2025-11-01T00:00:00.000' })
    expect(naive.twaps.map((t) => t.twap_id)).toEqual(['1'])
    // A `+` left unencoded in a URL reaches the server as a space.
    const raw = await api.app.inject(`/api/v1/twaps?wallet=${WALLET}&start=2025-11-01T01:00:00+01:00&end=2025-11-01T01:00:00+01:00`)
    expect(raw.json<Page>().twaps.map((t) => t.twap_id)).toEqual(['1'])
  })

  it('filters by asset and matches the wallet whatever its case', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', asset: 'SOL' }),
      twapEvent({ twapId: '2', asset: 'BTC', ts: '2025-11-03T13:00:00Z' }),
      twapEvent({ twapId: '3', wallet: OTHER_WALLET }),
    ])
    expect((await get(RANGE)).twaps.map((t) => t.twap_id)).toEqual(['2', '1'])
    expect((await get({ ...RANGE, asset: 'BTC' })).twaps.map((t) => t.twap_id)).toEqual(['2'])
    expect((await get({ ...RANGE, asset: 'DOGE' })).twaps).toEqual([])
    const upper = await get({ ...RANGE, wallet: '0x' + 'AB'.repeat(20) })
    expect(upper.wallet).toBe(WALLET)
    expect(upper.twaps.map((t) => t.twap_id)).toEqual(['2', '1'])
    const mixed = await get({ ...RANGE, wallet: '0X' + 'aB'.repeat(20) })
    expect(mixed.twaps).toHaveLength(2)
  })

  it('with latest_per_twap=false lists each TWAP\'s events in the range, oldest first', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '1', ts: '2025-10-31T23:59:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
      twapEvent({ twapId: '1', ts: '2025-11-01T00:10:00Z', status: 'activated', sizeExecuted: '40.0', notionalExecuted: '3600.0' }),
      twapEvent({ twapId: '1', ts: '2025-11-02T00:00:00Z', status: 'activated', sizeExecuted: '70.0', notionalExecuted: '6300.0' }),
      twapEvent({ twapId: '1', ts: '2025-11-05T00:00:00Z', status: 'finished' }),
      twapEvent({ twapId: '2', ts: '2025-11-03T00:00:00Z', status: 'finished' }),
      twapEvent({ twapId: '2', ts: '2025-11-03T00:00:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
    ])
    for (const flag of ['false', '0']) {
      const page = await get({ ...RANGE, latest_per_twap: flag })
      expect(page.twaps.map((t) => [t.twap_id, t.status, t.latest_ts])).toEqual([
        ['2', 'finished', '2025-11-03T00:00:00Z'],
        ['1', 'activated', '2025-11-02T00:00:00Z'],
      ])
      expect(page.twaps[1]!.events).toEqual([
        { ts: '2025-11-01T00:10:00Z', status: 'activated', executed: { size: '40.0', notional: '3600.0' }, avg_price: '90', raw: expect.objectContaining({ state_executedSz: '40.0' }) },
        { ts: '2025-11-02T00:00:00Z', status: 'activated', executed: { size: '70.0', notional: '6300.0' }, avg_price: '90', raw: expect.objectContaining({ state_executedSz: '70.0' }) },
      ])
      expect(page.twaps[0]!.events!.map((e) => e.status)).toEqual(['activated', 'finished'])
    }
    for (const flag of ['true', '1']) {
      expect((await get({ ...RANGE, latest_per_twap: flag })).twaps.every((t) => !('events' in t))).toBe(true)
    }
  })

  it('counts TWAPs, not events, in limit, and ends with a null cursor exactly on the last TWAP', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, ['1', '2', '3'].flatMap((id, i) => twapLifecycle(id, `2025-11-0${i + 1}T10:00:00Z`)))
    const first = await get({ ...RANGE, limit: 2 })
    expect(first.twaps.map((t) => t.twap_id)).toEqual(['3', '2'])
    expect(first.next_cursor).toEqual(expect.any(String))
    const second = await get({ ...RANGE, limit: 2, cursor: first.next_cursor! })
    expect(second.twaps.map((t) => t.twap_id)).toEqual(['1'])
    expect(second.next_cursor).toBeNull()
    expect((await get({ ...RANGE, limit: 3 })).next_cursor).toBeNull()
  })

  it('rejects a cursor from another query', async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, ['1', '2'].flatMap((id, i) => twapLifecycle(id, `2025-11-0${i + 1}T10:00:00Z`)))
    const { next_cursor: cursor } = await get({ ...RANGE, limit: 1 })
    const others: Record<string, string>[] = [{ wallet: OTHER_WALLET }, { start: '2025-10-31' }, { end: '2025-11-05' }, { asset: 'SOL' }]
    for (const other of others) {
      const res = await api.app.inject(twapsUrl({ ...RANGE, ...other, limit: 1, cursor: cursor! }))
      expect(res.statusCode).toBe(422)
      expect(res.json().errors).toEqual([{ parameter: 'cursor', message: expect.stringContaining('next_cursor') }])
    }
    // The same query written differently is the same query.
    const same = await api.app.inject(twapsUrl({ wallet: WALLET.toUpperCase().replace('0X', '0x'), start: '2025-11-01T00:00:00Z', end: '2025-11-05T00:59:59.999999+01:00', limit: 1, cursor: cursor! }))
    expect(same.statusCode).toBe(200)
  })
})

describe(`paging through a wallet of many TWAPs on ${engine}`, () => {
  let api: TestApi
  const TWAPS = 1234
  const range = { wallet: WALLET, start: '2025-01-01', end: '2025-12-31T23:59:59.999999Z' }

  beforeAll(async () => {
    api = await createTestApi()
    // Groups of five TWAPs share their finishing time, so paging must break ties by id; some
    // TWAPs start before the range, some finish after it, and another wallet is interleaved.
    const events = []
    for (let i = 0; i < TWAPS; i++) {
      const placedAt = new Date(Date.UTC(2025, 0, 1) + Math.floor(i / 5) * 3_600_000 - 40 * 60_000).toISOString()
      events.push(...twapLifecycle(String(100_000 + i), placedAt, { minutes: 60 }))
      if (i % 50 === 0) events.push(...twapLifecycle(String(900_000 + i), placedAt, { wallet: OTHER_WALLET }))
    }
    events.push(...twapLifecycle('999999', '2025-12-31T23:30:00Z', { minutes: 60 }))
    await loadEvents(api.store.db, events)
  })
  afterAll(() => api?.destroy())

  it('walks every TWAP exactly once, newest first, in the order of a plain reference query', async () => {
    const seen: Page['twaps'] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const url: string = twapsUrl({ ...range, limit: 100, ...(cursor ? { cursor } : {}) })
      const res = await api.app.inject(url)
      expect(res.statusCode, res.body).toBe(200)
      const page: Page = res.json()
      expect(page.twaps.length).toBeLessThanOrEqual(100)
      seen.push(...page.twaps)
      cursor = page.next_cursor
      pages++
    } while (cursor)
    expect(seen).toHaveLength(TWAPS + 1)
    expect(pages).toBe(13)
    expect(new Set(seen.map((t) => t.twap_id)).size).toBe(seen.length)

    const { rows } = await api.store.db.query<{ twap_id: string }>(`
      SELECT twap_id FROM (
        SELECT DISTINCT ON (twap_id) twap_id, ts, is_terminal, id FROM twap_status
         WHERE wallet = $1 AND ts BETWEEN $2::timestamptz AND $3::timestamptz
         ORDER BY twap_id, ts DESC, is_terminal DESC, id DESC) latest
      ORDER BY ts DESC, is_terminal DESC, id DESC`, [WALLET, '2025-01-01T00:00:00Z', range.end])
    expect(seen.map((t) => t.twap_id)).toEqual(rows.map((r) => r.twap_id))
    // The TWAP that finishes after the range is summarised by its activation.
    expect(seen.find((t) => t.twap_id === '999999')).toMatchObject({ status: 'activated', latest_ts: '2025-12-31T23:30:00Z' })
    expect(seen.at(-1)).toMatchObject({ twap_id: '100000', status: 'finished' })
  })

  it('gives the same TWAPs in one page of 5,000 as in pages of 100', async () => {
    const res = await api.app.inject(twapsUrl({ ...range, limit: 5000 }))
    const page = res.json<Page>()
    expect(page.twaps).toHaveLength(TWAPS + 1)
    expect(page.next_cursor).toBeNull()
  })
})
