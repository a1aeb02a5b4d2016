import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runEtl } from '#src/etl/run.ts'
import { engine } from '../support/db.ts'
import { createTestApi, loadEvents, loadFills, testConfig, twapLifecycle, twapsUrl, WALLET, type TestApi } from '../support/api.ts'

describe(`GET /api/v1/coverage, on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, twapLifecycle('1', '2025-11-03T10:00:00Z'), 'hourly/2025/11/03/10/part-0.parquet')
    await loadEvents(api.store.db, twapLifecycle('2', '2025-11-03T12:00:00Z'), 'hourly/2025/11/03/12/part-0.parquet')
  })
  afterAll(() => api?.destroy())

  const get = (url: string) => api.app.inject(url)

  it('reports the hour missing between two covered ones as the one gap of the span', async () => {
    const res = await get('/api/v1/coverage')

    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({
      start: null, end: null,
      datasets: {
        statuses: {
          first_hour: '2025-11-03T10:00:00.000Z', last_hour: '2025-11-03T12:00:00.000Z', covered_hours: 2, missing_hours: 1,
          gaps: [{ start: '2025-11-03T11:00:00.000Z', end: '2025-11-03T11:00:00.000Z', hours: 1 }],
          failed_objects: [], complete: false, newest_ingest: { key: expect.stringContaining('part-0.parquet') },
        },
        fills: { first_hour: null, covered_hours: 0, missing_hours: 0, gaps: [], newest_ingest: null, complete: false },
      },
    })
  })

  it('counts every hour of a whole day outside the covered ones as missing', async () => {
    const res = await get('/api/v1/coverage?start=2025-11-03&end=2025-11-03')

    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({ start: '2025-11-03T00:00:00Z', end: '2025-11-03T23:59:59.999999Z' })
    expect(body.datasets.statuses).toMatchObject({ covered_hours: 2, missing_hours: 22, complete: false })
    expect(body.datasets.statuses.gaps).toEqual([
      { start: '2025-11-03T00:00:00.000Z', end: '2025-11-03T09:00:00.000Z', hours: 10 },
      { start: '2025-11-03T11:00:00.000Z', end: '2025-11-03T11:00:00.000Z', hours: 1 },
      { start: '2025-11-03T13:00:00.000Z', end: '2025-11-03T23:00:00.000Z', hours: 11 },
    ])
  })

  it('answers a tax year with no data as incomplete rather than an error', async () => {
    const res = await get('/api/v1/coverage?start=2024-01-01&end=2024-12-31')

    expect(res.statusCode).toBe(200)
    expect(res.json().datasets.statuses).toMatchObject({
      first_hour: null, covered_hours: 0, missing_hours: 366 * 24, complete: false,
      gaps: [{ start: '2024-01-01T00:00:00.000Z', end: '2024-12-31T23:00:00.000Z', hours: 366 * 24 }],
    })
  })

  it('answers 422 naming the parameter for a start without an end, a bad date, a reversed range or an unknown parameter', async () => {
    const cases: [string, string][] = [
      ['start=2025-01-01', 'end'],
      ['start=2025-13-01&end=2025-12-31', 'start'],
      ['start=2025-12-31&end=2025-01-01', 'start'],
      ['wallet=0xab', 'wallet'],
    ]
    for (const [query, parameter] of cases) {
      const res = await get(`/api/v1/coverage?${query}`)
      expect(res.statusCode, query).toBe(422)
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/)
      expect(JSON.stringify(res.json()), query).toContain(parameter)
    }
  })

  it('says in the page, the export filename and a header whether the range of an answer is complete', async () => {
    const covered = { wallet: WALLET, start: '2025-11-03T10:00:00Z', end: '2025-11-03T10:59:59Z' }
    const gapped = { ...covered, end: '2025-11-03T12:59:59Z' }

    expect((await get(twapsUrl(covered))).json().coverage).toEqual({
      statuses: { complete: true, missing_hours: 0 }, fills: { complete: false, missing_hours: 1 },
    })
    expect((await get(twapsUrl(gapped))).json().coverage.statuses).toEqual({ complete: false, missing_hours: 1 })

    const whole = await get(twapsUrl({ ...covered, format: 'csv' }))
    expect(whole.headers['x-coverage-complete']).toBe('true')
    expect(whole.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20251103T100000Z_20251103T105959Z.csv"`)

    const holed = await get(twapsUrl({ ...gapped, format: 'csv' }))
    expect(holed.headers['x-coverage-complete']).toBe('false')
    expect(holed.headers['content-disposition']).toBe(`attachment; filename="twaps_${WALLET}_20251103T100000Z_20251103T125959Z_incomplete.csv"`)
    // The file itself is rows only: nothing an importer would take for a trade.
    expect(holed.body.split('\n').filter(Boolean)).toHaveLength(1 + 2)

    const fills = await get(`/api/v1/fills?${new URLSearchParams({ ...covered, format: 'ndjson' })}`)
    expect(fills.headers['x-coverage-complete']).toBe('false')
    expect(fills.headers['content-disposition']).toMatch(/_incomplete\.ndjson"$/)
  })

  it('gives the wallet summary the coverage of /api/v1/twaps, and names its CSV _incomplete unless both datasets cover the range', async () => {
    const covered = { start: '2025-11-03T10:00:00Z', end: '2025-11-03T10:59:59Z' }
    const gapped = { ...covered, end: '2025-11-03T12:59:59Z' }
    const summaryUrl = (query: Record<string, string>) => `/api/v1/wallets/${WALLET}/summary?${new URLSearchParams(query)}`
    for (const range of [covered, gapped]) {
      const summary = await get(summaryUrl(range))
      expect(summary.statusCode).toBe(200)
      expect(summary.json().coverage).toEqual((await get(twapsUrl({ wallet: WALLET, ...range }))).json().coverage)
    }
    expect((await get(summaryUrl(gapped))).json().coverage).toEqual({
      statuses: { complete: false, missing_hours: 1 }, fills: { complete: false, missing_hours: 3 },
    })

    // The statuses cover hour 10, the fills do not: the fees and PnL columns would be short.
    const noFills = await get(summaryUrl({ ...covered, format: 'csv' }))
    expect(noFills.headers['x-coverage-complete']).toBe('false')
    expect(noFills.headers['content-disposition']).toBe(`attachment; filename="summary_${WALLET}_20251103T100000Z_20251103T105959Z_incomplete.csv"`)
    expect(noFills.body.split('\n').filter(Boolean).at(-1)).toMatch(/^total,/)

    await loadFills(api.store.db, [], 'node_fills_by_block/hourly/20251103/10.lz4')
    const whole = await get(summaryUrl({ ...covered, format: 'csv' }))
    expect(whole.headers['x-coverage-complete']).toBe('true')
    expect(whole.headers['content-disposition']).toBe(`attachment; filename="summary_${WALLET}_20251103T100000Z_20251103T105959Z.csv"`)
    expect((await get(summaryUrl(covered))).json().coverage).toEqual({
      statuses: { complete: true, missing_hours: 0 }, fills: { complete: true, missing_hours: 0 },
    })
  })
})

describe(`the coverage of a page, on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
  })
  afterAll(() => api?.destroy())

  const range = { wallet: WALLET, start: '2025-11-03T10:00:00Z', end: '2025-11-03T12:59:59Z' }
  const statuses = async () => {
    const res = await api.app.inject(twapsUrl(range))
    expect(res.statusCode).toBe(200)
    return { coverage: res.json().coverage.statuses, etag: res.headers.etag }
  }

  it('is the same on every page while nothing is ingested, and follows each ingest, failed ones included', async () => {
    await loadEvents(api.store.db, twapLifecycle('1', '2025-11-03T10:00:00Z'), 'hourly/2025/11/03/10/part-0.parquet')
    await loadEvents(api.store.db, twapLifecycle('2', '2025-11-03T12:00:00Z'), 'hourly/2025/11/03/12/part-0.parquet')
    const gapped = await statuses()
    expect(gapped.coverage).toEqual({ complete: false, missing_hours: 1 })
    expect(await statuses()).toEqual(gapped)

    await loadEvents(api.store.db, twapLifecycle('3', '2025-11-03T11:00:00Z'), 'hourly/2025/11/03/11/part-0.parquet')
    const whole = await statuses()
    expect(whole.coverage).toEqual({ complete: true, missing_hours: 0 })
    expect(whole.etag).not.toBe(gapped.etag)

    // An object that cannot be read may hold any hour: the range is no longer complete.
    const dir = await mkdtemp(join(tmpdir(), 'hltwap-broken-'))
    try {
      await writeFile(join(dir, 'broken.parquet'), 'these bytes are not a parquet file at all')
      const run = await runEtl({ db: api.store.db, config: testConfig(), logger: pino({ level: 'silent' }) }, { source: { kind: 'local', paths: [dir] } })
      expect(run.objectsFailed).toBe(1)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    expect((await statuses()).coverage).toEqual({ complete: false, missing_hours: 0 })
  })
})
