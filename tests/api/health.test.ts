import { afterEach, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, twapsUrl, type TestApi } from '../support/api.ts'

async function logIngest(api: TestApi, key: string, hoursAgo: number, errorText: string | null = null, dataset = 'statuses') {
  await api.store.db.query(
    `INSERT INTO etl_s3_ingest_log (s3_object_key, rows_ingested, error_text, ingested_at, dataset)
     VALUES ($1, 10, $2, now() - make_interval(secs => $3), $4)`, [key, errorText, hoursAgo * 3600, dataset])
}

describe(`GET /healthz on ${engine}`, () => {
  let api: TestApi
  afterEach(() => api?.destroy())

  it('is ok with nothing ingested yet', async () => {
    api = await createTestApi()
    const res = await api.app.inject('/healthz')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({
      status: 'ok', database: { status: 'ok', engine }, last_ingested: null, stale_after_hours: 36,
      datasets: {
        statuses: { configured: true, stale: false, last_ingested: null },
        fills: { configured: false, stale: false, last_ingested: null },
      },
    })
  })

  it('reports the newest object ingested without error, and its age', async () => {
    api = await createTestApi()
    await logIngest(api, 'raw/twap_statuses/old.parquet', 5)
    await logIngest(api, 'raw/twap_statuses/new.parquet', 2)
    await logIngest(api, 'raw/twap_statuses/broken.parquet', 1, 'corrupt parquet')
    const body = (await api.app.inject('/healthz')).json()
    expect(body).toMatchObject({ status: 'ok', last_ingested: { s3_object_key: 'raw/twap_statuses/new.parquet' } })
    expect(body.last_ingested.age_seconds).toBeGreaterThanOrEqual(7200)
    expect(body.last_ingested.age_seconds).toBeLessThan(7260)
    expect(body.last_ingested.ingested_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    expect(Date.now() - Date.parse(body.last_ingested.ingested_at)).toBeGreaterThanOrEqual(7_199_000)
  })

  it('says stale, still with HTTP 200, when the newest ingest is older than the threshold', async () => {
    api = await createTestApi({ health: { staleAfterHours: 1 } })
    await logIngest(api, 'raw/twap_statuses/new.parquet', 2)
    const res = await api.app.inject('/healthz')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toMatchObject({ status: 'stale', database: { status: 'ok' }, stale_after_hours: 1 })
    await logIngest(api, 'raw/twap_statuses/newer.parquet', 0.5)
    expect((await api.app.inject('/healthz')).json().status).toBe('ok')
  })

  it('judges each dataset by its own newest ingest: fresh statuses do not hide stopped fills', async () => {
    api = await createTestApi({ health: { staleAfterHours: 1 }, etl: { datasets: ['statuses', 'fills'] } })
    await logIngest(api, 'raw/twap_statuses/new.parquet', 0.1)
    await logIngest(api, 'node_fills_by_block/hourly/20251103/6.lz4', 2, null, 'fills')
    const res = await api.app.inject('/healthz')
    expect(res.statusCode).toBe(200)
    const body = res.json()
    expect(body).toMatchObject({
      status: 'stale',
      last_ingested: { s3_object_key: 'raw/twap_statuses/new.parquet' },
      datasets: {
        statuses: { configured: true, stale: false, last_ingested: { s3_object_key: 'raw/twap_statuses/new.parquet' } },
        fills: { configured: true, stale: true, last_ingested: { s3_object_key: 'node_fills_by_block/hourly/20251103/6.lz4' } },
      },
    })
    expect(body.datasets.fills.last_ingested.age_seconds).toBeGreaterThanOrEqual(7200)
  })

  it('is not made stale by a dataset outside ETL_DATASETS, nor by a configured one never ingested', async () => {
    api = await createTestApi({ health: { staleAfterHours: 1 } })
    await logIngest(api, 'raw/twap_statuses/new.parquet', 0.1)
    await logIngest(api, 'node_fills_by_block/hourly/20251103/6.lz4', 5, null, 'fills')
    expect((await api.app.inject('/healthz')).json()).toMatchObject({
      status: 'ok',
      datasets: { statuses: { configured: true, stale: false }, fills: { configured: false, stale: true } },
    })
    await api.destroy()

    api = await createTestApi({ health: { staleAfterHours: 1 }, etl: { datasets: ['statuses', 'fills'] } })
    await logIngest(api, 'raw/twap_statuses/new.parquet', 0.1)
    await logIngest(api, 'node_fills_by_block/hourly/20251103/7.lz4', 0, 'download failed', 'fills')
    expect((await api.app.inject('/healthz')).json()).toMatchObject({
      status: 'ok',
      datasets: { statuses: { stale: false }, fills: { configured: true, stale: false, last_ingested: null } },
    })
  })

  it('answers 503 when the database is closed, and the API answers 503 problems', async () => {
    api = await createTestApi()
    await api.store.db.close()
    const health = await api.app.inject('/healthz')
    expect(health.statusCode).toBe(503)
    expect(health.json()).toEqual({
      status: 'unavailable', database: { status: 'unavailable', engine, reason: 'unreachable (ECONNABORTED)' }, last_ingested: null, stale_after_hours: 36,
    })
    for (const url of [twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2026-01-01' }), twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2026-01-01', format: 'csv' }), '/api/v1/twaps/1']) {
      const res = await api.app.inject(url)
      expect(res.statusCode, url).toBe(503)
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(res.json()).toEqual({ type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'The database is unreachable; try again later.' })
    }
  })
})
