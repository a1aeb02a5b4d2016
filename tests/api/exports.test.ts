import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { CSV_COLUMNS, EVENT_CSV_COLUMNS } from '#src/api/twap-json.ts'
import type { Db, Queryable } from '#src/store/db.ts'
import { EXPORT_CHUNK } from '#src/api/export.ts'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, testConfig, twapEvent, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

// More TWAPs than one export chunk, so exports cross chunk boundaries.
const TWAPS = EXPORT_CHUNK + 345
const RANGE = { wallet: WALLET, start: '2025-01-01', end: '2026-01-01' }

describe(`CSV and NDJSON exports on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    const events = []
    for (let i = 0; i < TWAPS; i++) {
      events.push(...twapLifecycle(String(500_000 + i), new Date(Date.UTC(2025, 1, 1) + i * 600_000).toISOString()))
    }
    events.push(twapEvent({ twapId: '42', ts: '2025-01-15T00:00:00Z', status: 'error: "quoted", with comma', asset: 'PURR/USDC', reduceOnly: null }))
    await loadEvents(api.store.db, events)
  })
  afterAll(() => api?.destroy())

  it('streams the whole range as CSV: a header, one line per TWAP, a filename naming wallet and range', async () => {
    const res = await api.app.inject(twapsUrl({ ...RANGE, format: 'csv', limit: 10 }))
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20250101_20260101_incomplete.csv"`)
    const lines = res.body.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines[0]).toBe(CSV_COLUMNS.join(','))
    expect(lines[0]).toBe('twap_id,wallet,asset,side,status,created_at,latest_ts,duration_minutes,requested_size,executed_size,executed_notional,avg_price,reduce_only,randomize,fills_count,fills_size,fills_notional,fills_avg_price,fills_fees,fills_builder_fee,fills_closed_pnl,reconciled')
    expect(lines).toHaveLength(TWAPS + 2)
    const newest = new Date(Date.UTC(2025, 1, 1) + (TWAPS - 1) * 600_000)
    expect(lines[1]).toBe([
      String(500_000 + TWAPS - 1), WALLET, 'SOL', 'B', 'finished', newest.toISOString().replace('.000Z', 'Z'),
      new Date(newest.getTime() + 1_800_000).toISOString().replace('.000Z', 'Z'), '30', '100.0', '100.0', '9050.0', '90.5', 'false', 'true',
    ].join(',') + ',,,,,,,,')
    expect(lines).toContain(`42,${WALLET},PURR/USDC,B,"error: ""quoted"", with comma",2025-11-03T12:00:00Z,2025-01-15T00:00:00Z,30,100.0,100.0,9050.0,90.5,,true,,,,,,,,`)
    expect(new Set(lines.slice(1).map((l) => l.split(',')[0])).size).toBe(TWAPS + 1)
  })

  it('streams NDJSON lines that are exactly the TWAPs of the JSON pages', async () => {
    const res = await api.app.inject(twapsUrl({ ...RANGE, format: 'ndjson' }))
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8')
    expect(res.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20250101_20260101_incomplete.ndjson"`)
    const lines = res.body.trimEnd().split('\n')
    expect(lines).toHaveLength(TWAPS + 1)
    const page = (await api.app.inject(twapsUrl({ ...RANGE, limit: 5000 }))).json<{ twaps: unknown[] }>()
    expect(lines.map((l) => JSON.parse(l))).toEqual(page.twaps)
  })

  it('adds each TWAP\'s events to NDJSON lines with latest_per_twap=false', async () => {
    const res = await api.app.inject(twapsUrl({ ...RANGE, format: 'ndjson', latest_per_twap: false, asset: 'SOL' }))
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l) as { events: { status: string }[] })
    expect(lines).toHaveLength(TWAPS)
    expect(lines.every((l) => l.events.map((e) => e.status).join() === 'activated,finished')).toBe(true)
  })

  it('streams one CSV line per event with latest_per_twap=false, the TWAP\'s columns repeated, events oldest first', async () => {
    const res = await api.app.inject(twapsUrl({ ...RANGE, format: 'csv', latest_per_twap: false }))
    expect(res.statusCode).toBe(200)
    const lines = res.body.split('\n')
    expect(lines.pop()).toBe('')
    expect(lines[0]).toBe(EVENT_CSV_COLUMNS.join(','))
    expect(lines[0]).toBe('twap_id,wallet,asset,side,created_at,duration_minutes,requested_size,reduce_only,randomize,ts,status,executed_size,executed_notional,avg_price')
    // Every TWAP of the range has its two events, across export chunks; the error TWAP one.
    expect(lines).toHaveLength(1 + TWAPS * 2 + 1)
    const newestId = String(500_000 + TWAPS - 1)
    const placed = new Date(Date.UTC(2025, 1, 1) + (TWAPS - 1) * 600_000)
    const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z')
    const twapColumns = [newestId, WALLET, 'SOL', 'B', iso(placed), '30', '100.0', 'false', 'true']
    expect(lines.slice(1, 3)).toEqual([
      [...twapColumns, iso(placed), 'activated', '0.0', '0.0', ''].join(','),
      [...twapColumns, iso(new Date(placed.getTime() + 1_800_000)), 'finished', '100.0', '9050.0', '90.5'].join(','),
    ])
    expect(lines.filter((l) => l.startsWith('42,'))).toHaveLength(1)
  })

  it('lets the Accept header choose the format, and the format parameter win over it', async () => {
    const csv = await api.app.inject({ url: twapsUrl({ ...RANGE, asset: 'PURR/USDC' }), headers: { accept: 'text/csv' } })
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(csv.body.trimEnd().split('\n')).toHaveLength(2)
    const ndjson = await api.app.inject({ url: twapsUrl({ ...RANGE, asset: 'PURR/USDC' }), headers: { accept: 'text/csv;q=0.5, application/x-ndjson' } })
    expect(ndjson.headers['content-type']).toBe('application/x-ndjson; charset=utf-8')
    const json = await api.app.inject({ url: twapsUrl({ ...RANGE, asset: 'PURR/USDC', format: 'json' }), headers: { accept: 'text/csv' } })
    expect(json.headers['content-type']).toBe('application/json; charset=utf-8')
    const browser = await api.app.inject({ url: twapsUrl({ ...RANGE, asset: 'PURR/USDC' }), headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(browser.headers['content-type']).toBe('application/json; charset=utf-8')
  })

  it('gives the header alone for an empty range, and a filename with times when the range is not whole days', async () => {
    const res = await api.app.inject(twapsUrl({ wallet: WALLET, start: '2024-01-01T06:30:00Z', end: '2024-02-01', format: 'csv' }))
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe(CSV_COLUMNS.join(',') + '\n')
    expect(res.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20240101T063000Z_20240201_incomplete.csv"`)
    const nd = await api.app.inject(twapsUrl({ wallet: WALLET, start: '2024-01-01', end: '2024-02-01', format: 'ndjson' }))
    expect([nd.statusCode, nd.body]).toEqual([200, ''])
  })

  it('answers a bad export request with a 422 problem before streaming anything', async () => {
    const res = await api.app.inject(twapsUrl({ wallet: 'nope', start: RANGE.start, end: RANGE.end, format: 'csv' }))
    expect(res.statusCode).toBe(422)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.headers['content-disposition']).toBeUndefined()
  })

  it('finishes an export in flight when the app closes, before the database is closed', async () => {
    const own = await createTestApi()
    try {
      const events = []
      for (let i = 0; i < TWAPS; i++) events.push(...twapLifecycle(String(i + 1), new Date(Date.UTC(2025, 0, 1) + i * 600_000).toISOString()))
      await loadEvents(own.store.db, events)
      await own.app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = own.app.server.address() as AddressInfo
      // As the CLI shuts down: close the app at the first bytes, then the database.
      const body = await new Promise<string>((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', path: twapsUrl({ ...RANGE, format: 'csv' }) }, (res) => {
          let text = ''
          let shutdown: Promise<void> | undefined
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            text += chunk
            shutdown ??= own.app.close().then(() => own.store.db.close())
          })
          res.on('end', () => shutdown!.then(() => resolve(text), reject))
          res.on('error', reject)
          res.on('aborted', () => reject(new Error('response aborted')))
        })
        req.on('error', reject)
        req.end()
      })
      expect(body.trimEnd().split('\n')).toHaveLength(TWAPS + 1)
    } finally {
      await own.store.destroy()
    }
  })

  it('cuts an export short, without crashing, when the database goes away mid-stream', async () => {
    // The first chunk is read with its fill totals, verdicts and the range's coverage; every later page query fails as a lost connection does.
    // On PostgreSQL the export reads through a snapshot of its own, which fails alike.
    let queries = 0
    const db = api.store.db
    const failingQuery = (inner: Queryable): Queryable['query'] => (sql, params) =>
      (/twap_fill|twap_reconciliation|ingest_coverage|etl_s3_ingest_log/.test(sql) || queries++ === 0 ? inner.query(sql, params) : Promise.reject(new Error('Connection terminated unexpectedly')))
    const snapshot = db.snapshot?.bind(db)
    const failing: Db = {
      ...db,
      query: failingQuery(db),
      snapshot: snapshot && (async () => {
        const reads = await snapshot()
        return { ...reads, query: failingQuery(reads) }
      }),
    } as Db
    const app = await buildApp({ db: failing, config: testConfig() })
    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
      const { port } = app.server.address() as AddressInfo
      const outcome = await new Promise<{ status: number; aborted: boolean; text: string }>((resolve) => {
        const req = request({ port, host: '127.0.0.1', path: twapsUrl({ ...RANGE, format: 'csv' }) }, (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => { text += chunk })
          res.on('error', () => resolve({ status: res.statusCode!, aborted: true, text }))
          res.on('end', () => resolve({ status: res.statusCode!, aborted: !res.complete, text }))
        })
        req.on('error', () => resolve({ status: 0, aborted: true, text: '' }))
        req.end()
      })
      expect(outcome.status).toBe(200)
      expect(outcome.aborted).toBe(true)
      expect(outcome.text.split('\n').length).toBeLessThan(TWAPS + 1)
      // The app still answers.
      expect((await app.inject('/')).statusCode).toBe(200)
    } finally {
      await app.close()
    }
  })
})
