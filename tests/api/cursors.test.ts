import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, testConfig, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

const QUERY = { wallet: WALLET, start: '2024-01-01', end: '2026-01-01', limit: 1 }

/** The cursor with one of its `|`-separated fields (version, ts, terminal, id, signature) changed. */
function edit(cursor: string, field: number, change: (value: string) => string): string {
  const parts = Buffer.from(cursor, 'base64url').toString('latin1').split('|')
  parts[field] = change(parts[field]!)
  return Buffer.from(parts.join('|'), 'latin1').toString('base64url')
}

describe(`signed cursors on ${engine}`, () => {
  let api: TestApi
  let cursor: string

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [...twapLifecycle('1', '2024-06-01T00:00:00Z'), ...twapLifecycle('2', '2025-06-01T00:00:00Z'), ...twapLifecycle('3', '2025-07-01T00:00:00Z')])
    cursor = (await api.app.inject(twapsUrl(QUERY))).json<{ next_cursor: string }>().next_cursor
  })
  afterAll(() => api?.destroy())

  it('resumes after a cursor it signed', async () => {
    const next = await api.app.inject(twapsUrl({ ...QUERY, cursor }))
    expect(next.statusCode).toBe(200)
    expect(next.json<{ twaps: { twap_id: string }[] }>().twaps.map((t) => t.twap_id)).toEqual(['2'])
  })

  it.each([
    ['its year', 1, (ts: string) => ts.replace('2025-', '2024-')],
    ['its id', 3, (id: string) => String(BigInt(id) - 1n)],
    ['its terminal flag', 2, (flag: string) => (flag === '1' ? '0' : '1')],
    ['its signature', 4, (mac: string) => mac.replace(/.$/, (c) => (c === '0' ? '1' : '0'))],
  ])('refuses a cursor with %s edited with a 422 naming cursor', async (_part, field, change) => {
    const edited = edit(cursor, field, change)
    expect(edited).not.toBe(cursor)
    const res = await api.app.inject(twapsUrl({ ...QUERY, cursor: edited }))
    expect(res.statusCode).toBe(422)
    expect(res.json<{ errors: { parameter: string }[] }>().errors.map((e) => e.parameter)).toEqual(['cursor'])
  })

  it('is accepted by every instance on the same database, and refused under another CURSOR_SECRET', async () => {
    const other = await buildApp({ db: api.store.db, config: testConfig() })
    const keyed = await buildApp({ db: api.store.db, config: testConfig({ api: { cursorSecret: 'another-secret-of-16+' } }) })
    try {
      expect((await other.inject(twapsUrl({ ...QUERY, cursor }))).statusCode).toBe(200)
      expect((await keyed.inject(twapsUrl({ ...QUERY, cursor }))).statusCode).toBe(422)
      const own = (await keyed.inject(twapsUrl(QUERY))).json<{ next_cursor: string }>().next_cursor
      expect((await keyed.inject(twapsUrl({ ...QUERY, cursor: own }))).statusCode).toBe(200)
    } finally {
      await other.close()
      await keyed.close()
    }
  })
})
