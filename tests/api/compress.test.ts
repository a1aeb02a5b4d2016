import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

const RANGE = { wallet: WALLET, start: '2025-01-01', end: '2026-01-01' }

describe(`Compression on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    const events = []
    for (let i = 0; i < 300; i++) events.push(...twapLifecycle(String(800_000 + i), new Date(Date.UTC(2025, 3, 1) + i * 600_000).toISOString()))
    await loadEvents(api.store.db, events)
  })
  afterAll(() => api?.destroy())

  for (const [format, coding, decode] of [
    ['csv', 'gzip', gunzipSync],
    ['csv', 'br', brotliDecompressSync],
    ['ndjson', 'gzip', gunzipSync],
  ] as const) {
    it(`streams a ${format} export ${coding}-compressed, byte-identical once decompressed`, async () => {
      const url = twapsUrl({ ...RANGE, format })
      const plain = await api.app.inject(url)
      expect(plain.statusCode).toBe(200)
      expect(plain.headers['content-encoding']).toBeUndefined()
      expect(plain.rawPayload.length).toBeGreaterThan(20_000)
      const packed = await api.app.inject({ url, headers: { 'accept-encoding': coding } })
      expect(packed.statusCode).toBe(200)
      expect(packed.headers['content-encoding']).toBe(coding)
      expect(packed.headers.vary).toMatch(/accept-encoding/i)
      expect(packed.headers['content-disposition']).toBe(plain.headers['content-disposition'])
      expect(packed.rawPayload.length).toBeLessThan(plain.rawPayload.length / 4)
      expect(Buffer.compare(decode(packed.rawPayload), plain.rawPayload)).toBe(0)
    })
  }

  it('compresses a large JSON page, the client\'s preferred coding first', async () => {
    const url = twapsUrl({ ...RANGE, limit: 200 })
    const plain = await api.app.inject(url)
    const packed = await api.app.inject({ url, headers: { 'accept-encoding': 'gzip;q=1, br;q=0.5' } })
    expect(packed.headers['content-encoding']).toBe('gzip')
    expect(JSON.parse(gunzipSync(packed.rawPayload).toString('utf8'))).toEqual(plain.json())
  })

  it('sends small answers as they are', async () => {
    // A range before the first TWAP: a page with no TWAPs, well under the 1 KiB threshold.
    const url = twapsUrl({ ...RANGE, end: '2025-02-01' })
    const plain = await api.app.inject(url)
    expect(plain.rawPayload.length).toBeLessThan(1024)
    const small = await api.app.inject({ url, headers: { 'accept-encoding': 'gzip, br' } })
    expect(small.statusCode).toBe(200)
    expect(small.headers['content-encoding']).toBeUndefined()
    expect(Buffer.compare(small.rawPayload, plain.rawPayload)).toBe(0)
    expect(small.json<{ twaps: unknown[] }>().twaps).toHaveLength(0)
    const large = await api.app.inject({ url: twapsUrl({ ...RANGE, limit: 6 }), headers: { 'accept-encoding': 'gzip' } })
    expect(large.headers['content-encoding']).toBe('gzip')
    const problem = await api.app.inject({ url: twapsUrl({ ...RANGE, wallet: 'nope' }), headers: { 'accept-encoding': 'gzip' } })
    expect(problem.statusCode).toBe(422)
    expect(problem.headers['content-encoding']).toBeUndefined()
  })
})
