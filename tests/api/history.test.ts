import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { OTHER_WALLET, WALLET, createTestApi, loadEvents, twapEvent, twapsUrl, type TestApi } from '../support/api.ts'

describe(`GET /api/v1/twaps/:twap_id on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '77', ts: '2025-11-03T12:00:00Z', status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
      twapEvent({ twapId: '77', ts: '2025-11-03T12:10:00.25Z', status: 'activated', sizeExecuted: '40.0', notionalExecuted: '3620.0' }),
      twapEvent({ twapId: '88', wallet: OTHER_WALLET }),
      twapEvent({ twapId: '77', ts: '2025-11-03T12:30:00Z', status: 'finished' }),
    ], 'raw/twap_statuses/2025-11-03.parquet')
    // Loaded later, so it has the larger id, yet the terminal event at the same time comes last.
    await loadEvents(api.store.db, [
      twapEvent({ twapId: '77', ts: '2025-11-03T12:30:00Z', status: 'activated', sizeExecuted: '90.0', notionalExecuted: '8145.0' }),
    ], 'raw/twap_statuses/2025-11-04.parquet')
  })
  afterAll(() => api?.destroy())

  it('lists every event of the TWAP, oldest first, the terminal one last on equal times', async () => {
    const res = await api.app.inject('/api/v1/twaps/77')
    expect(res.statusCode).toBe(200)
    const body = res.json<{ twap_id: string; rows: { ts: string; status: string; executed: { size: string } }[] }>()
    expect(body.twap_id).toBe('77')
    expect(body.rows.map((r) => [r.ts, r.status, r.executed.size])).toEqual([
      ['2025-11-03T12:00:00Z', 'activated', '0.0'],
      ['2025-11-03T12:10:00.25Z', 'activated', '40.0'],
      ['2025-11-03T12:30:00Z', 'activated', '90.0'],
      ['2025-11-03T12:30:00Z', 'finished', '100.0'],
    ])
  })

  it('agrees with the list: the same events in the same order, each with the fields of a TWAP event', async () => {
    const history = (await api.app.inject('/api/v1/twaps/77')).json<{ rows: Record<string, unknown>[] }>()
    const page = (await api.app.inject(twapsUrl({ wallet: WALLET, start: '2025-11-01', end: '2025-11-30', latest_per_twap: false }))).json<{
      twaps: { twap_id: string; events: Record<string, unknown>[] }[]
    }>()
    const events = page.twaps.find((t) => t.twap_id === '77')!.events
    expect(events).toHaveLength(4)
    const eventFields = Object.keys(events[0]!)
    expect(eventFields).toEqual(['ts', 'status', 'executed', 'avg_price', 'raw'])
    // A history row is the event, field for field and in that order, then its TWAP's fields.
    expect(Object.keys(history.rows[0]!).slice(0, eventFields.length)).toEqual(eventFields)
    expect(history.rows.map((row) => Object.fromEntries(eventFields.map((f) => [f, row[f]])))).toEqual(events)
  })

  it('gives each event its wallet, sizes, source object and raw row', async () => {
    const body = (await api.app.inject('/api/v1/twaps/77')).json<{ rows: unknown[] }>()
    expect(body.rows[1]).toEqual({
      wallet: WALLET,
      ts: '2025-11-03T12:10:00.25Z',
      status: 'activated',
      asset: 'SOL',
      side: 'B',
      duration_minutes: 30,
      requested_size: '100.0',
      executed: { size: '40.0', notional: '3620.0' },
      avg_price: '90.5',
      created_at: '2025-11-03T12:00:00Z',
      reduce_only: false,
      randomize: true,
      // The ETL read the fixture from a local directory: its key is a hash and the path below that directory, never a server path.
      s3_object_key: expect.stringMatching(/^local:[0-9a-f]{8}\/raw\/twap_statuses\/2025-11-03\.parquet$/),
      raw: expect.objectContaining({ twap_id: '77', status: 'activated', state_executedSz: '40.0' }),
    })
  })

  it('answers 404 with a problem body for an unknown TWAP', async () => {
    const res = await api.app.inject('/api/v1/twaps/999')
    expect(res.statusCode).toBe(404)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.json()).toEqual({ type: 'about:blank', title: 'Not Found', status: 404, detail: 'No TWAP with id 999.' })
  })

  it('answers 422 naming twap_id when it is not an id', async () => {
    for (const id of ['abc', '1'.repeat(21), '-1', '1.5', '%F0%9F%92%A9', "1'%20OR%20'1'='1"]) {
      const res = await api.app.inject(`/api/v1/twaps/${id}`)
      expect(res.statusCode, id).toBe(422)
      expect(res.json().errors, id).toEqual([{ parameter: 'twap_id', message: 'must be 1 to 20 decimal digits' }])
    }
  })
})
