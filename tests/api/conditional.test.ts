import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '#src/api/app.ts'
import type { Db } from '#src/store/db.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'
import { WALLET, loadEvents, testConfig, twapEvent, twapLifecycle, twapsUrl } from '../support/api.ts'

const RANGE = { wallet: WALLET, start: '2025-01-01', end: '2026-01-01' }

/** The store's Db, recording the SQL text of every query the routes run through it. */
function recording(db: Db): { db: Db; sql: string[] } {
  const sql: string[] = []
  const wrapped: Db = Object.create(db) as Db
  wrapped.query = (text, params) => {
    sql.push(text)
    return db.query(text, params)
  }
  return { db: wrapped, sql }
}

describe(`ETag, If-None-Match and Cache-Control on ${engine}`, () => {
  let store: TestStore
  let app: FastifyInstance
  let sql: string[]

  beforeAll(async () => {
    store = await createTestStore()
    const events = []
    for (let i = 0; i < 30; i++) events.push(...twapLifecycle(String(700_000 + i), new Date(Date.UTC(2025, 2, 1) + i * 3_600_000).toISOString()))
    await loadEvents(store.db, events)
    const recorded = recording(store.db)
    sql = recorded.sql
    const base = testConfig()
    // Hourly, so the age the answers may be kept is under an hour.
    app = await buildApp({ db: recorded.db, config: { ...base, etl: { ...base.etl, schedule: '0 * * * *' } } })
  })
  afterAll(async () => {
    await app?.close()
    await store?.destroy()
  })

  it('tags a page with a strong ETag and lets it be kept until the next scheduled ingest', async () => {
    const untilHour = () => (3_600_000 - (Date.now() % 3_600_000)) / 1000
    const atMost = untilHour()
    const res = await app.inject(twapsUrl(RANGE))
    const atLeast = untilHour() - 1
    expect(res.statusCode).toBe(200)
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{32}"$/)
    const maxAge = Number(/^public, max-age=(\d+)$/.exec(String(res.headers['cache-control']))?.[1])
    // Unless the hour turned during the request.
    if (atLeast < atMost) {
      expect(maxAge).toBeLessThanOrEqual(atMost)
      expect(maxAge).toBeGreaterThanOrEqual(atLeast)
    }
  })

  it('answers 304 to If-None-Match with the current tag, without reading any row', async () => {
    const first = await app.inject(twapsUrl(RANGE))
    const tag = String(first.headers.etag)
    sql.length = 0
    for (const header of [tag, `W/${tag}`, `"other", ${tag}`, '*']) {
      const res = await app.inject({ url: twapsUrl(RANGE), headers: { 'if-none-match': header } })
      expect(res.statusCode, header).toBe(304)
      expect(res.body).toBe('')
      expect(res.headers.etag).toBe(tag)
      expect(res.headers['cache-control']).toMatch(/^public, max-age=\d+$/)
    }
    expect(sql).toEqual([])
    const other = await app.inject({ url: twapsUrl(RANGE), headers: { 'if-none-match': '"something else"' } })
    expect(other.statusCode).toBe(200)
    expect(other.json()).toEqual(first.json())
    expect(sql.some((text) => text.includes('twap_status'))).toBe(true)
  })

  it('gives each query and format its own tag, and the same tag whatever the parameters\' order', async () => {
    const tags = await Promise.all([
      twapsUrl(RANGE),
      twapsUrl({ ...RANGE, asset: 'SOL' }),
      twapsUrl({ ...RANGE, limit: 5 }),
      twapsUrl({ ...RANGE, format: 'csv' }),
      twapsUrl({ ...RANGE, format: 'ndjson' }),
      `/api/v1/twaps/${700_001}`,
    ].map(async (url) => (await app.inject(url)).headers.etag))
    expect(new Set(tags).size).toBe(tags.length)
    const byAccept = await app.inject({ url: twapsUrl(RANGE), headers: { accept: 'text/csv' } })
    expect(byAccept.headers['content-type']).toBe('text/csv; charset=utf-8')
    expect(tags).not.toContain(byAccept.headers.etag)
    const reordered = await app.inject(`/api/v1/twaps?end=${RANGE.end}&start=${RANGE.start}&wallet=${RANGE.wallet}`)
    expect(reordered.headers.etag).toBe(tags[0])
    const gzip = await app.inject({ url: twapsUrl(RANGE), headers: { 'accept-encoding': 'gzip' } })
    expect(gzip.headers.etag).not.toBe(tags[0])
    // By the coding obtained, not the header's text.
    const identity = await app.inject({ url: twapsUrl(RANGE), headers: { 'accept-encoding': 'identity' } })
    expect(identity.headers.etag).toBe(tags[0])
    const xGzip = await app.inject({ url: twapsUrl(RANGE), headers: { 'accept-encoding': 'x-gzip, deflate;q=0.5' } })
    expect(xGzip.headers.etag).toBe(gzip.headers.etag)
  })

  it('changes every tag when an ingest commits, and serves the new rows to the old tag', async () => {
    const before = await app.inject(twapsUrl(RANGE))
    const csvBefore = await app.inject(twapsUrl({ ...RANGE, format: 'csv' }))
    await loadEvents(store.db, [twapEvent({ twapId: '799999', ts: '2025-06-01T00:00:00Z' })], 'test/later.parquet')
    const after = await app.inject({ url: twapsUrl(RANGE), headers: { 'if-none-match': String(before.headers.etag) } })
    expect(after.statusCode).toBe(200)
    expect(after.headers.etag).not.toBe(before.headers.etag)
    expect(after.json<{ twaps: { twap_id: string }[] }>().twaps.map((t) => t.twap_id)).toContain('799999')
    const csvAfter = await app.inject({ url: twapsUrl({ ...RANGE, format: 'csv' }), headers: { 'if-none-match': String(csvBefore.headers.etag) } })
    expect(csvAfter.statusCode).toBe(200)
    expect(csvAfter.body).toContain('799999')
    const again = await app.inject({ url: twapsUrl(RANGE), headers: { 'if-none-match': String(after.headers.etag) } })
    expect(again.statusCode).toBe(304)
  })

  it('tags exports, fills and coverage too', async () => {
    for (const url of [twapsUrl({ ...RANGE, format: 'csv' }), `/api/v1/fills?wallet=${WALLET}&start=2025-01-01&end=2026-01-01`, '/api/v1/coverage']) {
      const res = await app.inject(url)
      expect(res.statusCode, url).toBe(200)
      const repeat = await app.inject({ url, headers: { 'if-none-match': String(res.headers.etag) } })
      expect(repeat.statusCode, url).toBe(304)
    }
  })

  it('puts no tag on an error answer', async () => {
    const res = await app.inject(twapsUrl({ ...RANGE, start: '2026-02-01' }))
    expect(res.statusCode).toBe(422)
    expect(res.headers.etag).toBeUndefined()
    expect(String(res.headers['cache-control'] ?? '')).not.toMatch(/max-age/)
  })

  it('marks answers private when API keys are required', async () => {
    const base = testConfig({ api: { apiKeys: ['k1'] } })
    const keyed = await buildApp({ db: store.db, config: base })
    try {
      const res = await keyed.inject({ url: twapsUrl(RANGE), headers: { 'x-api-key': 'k1' } })
      expect(res.statusCode).toBe(200)
      expect(res.headers['cache-control']).toMatch(/^private, max-age=\d+$/)
      const refused = await keyed.inject({ url: twapsUrl(RANGE), headers: { 'if-none-match': String(res.headers.etag) } })
      expect(refused.statusCode).toBe(401)
    } finally {
      await keyed.close()
    }
  })
})
