import { request, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { EXPORT_CHUNK } from '#src/api/export.ts'
import type { Db } from '#src/store/db.ts'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, testConfig, twapEvent, twapsUrl, type TestApi } from '../support/api.ts'

// Enough TWAPs for several export chunks and, with a long status each, for more bytes than
// the sockets' buffers hold, so that a client that reads nothing holds its export open.
const TWAPS = EXPORT_CHUNK * 6
const STATUS = `error: ${'x'.repeat(300)}`
const RANGE = { wallet: WALLET, start: '2025-01-01', end: '2026-01-01' }

/** The store, counting the queries run through it: how much of an export was read. */
function counting(db: Db): { db: Db; queries: () => number } {
  let n = 0
  const wrapped = new Proxy(db, {
    get(target, prop) {
      if (prop === 'query') return (sql: string, params?: readonly unknown[]) => { n++; return target.query(sql, params) }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { db: wrapped, queries: () => n }
}

/** Starts a GET over a real socket and resolves with the response once its headers are in, paused. */
function open(app: FastifyInstance, path: string): Promise<IncomingMessage> {
  const { port } = app.server.address() as AddressInfo
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path }, (res) => {
      res.pause()
      resolve(res)
    })
    req.on('error', reject)
    req.end()
  })
}

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!condition()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

const settle = () => new Promise((r) => setTimeout(r, 300))

describe(`export limits on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    const events = []
    for (let i = 0; i < TWAPS; i++) events.push(twapEvent({ twapId: String(700_000 + i), ts: new Date(Date.UTC(2025, 1, 1) + i * 600_000).toISOString(), status: STATUS }))
    await loadEvents(api.store.db, events)
  }, 120_000)
  afterAll(() => api?.destroy())

  it('answers HEAD on an export with its headers and reads none of it', async () => {
    const store = counting(api.store.db)
    const app = await buildApp({ db: store.db, config: testConfig() })
    try {
      const url = twapsUrl({ ...RANGE, format: 'csv' })
      const get = await app.inject(url)
      expect(get.body.trimEnd().split('\n')).toHaveLength(TWAPS + 1)
      expect(store.queries()).toBeGreaterThanOrEqual(4)

      const before = store.queries()
      const head = await app.inject({ method: 'HEAD', url })
      await settle()
      const spent = store.queries() - before
      expect(head.statusCode).toBe(200)
      expect(head.headers['content-type']).toBe('text/csv; charset=utf-8')
      expect(head.headers['content-disposition']).toBe(get.headers['content-disposition'])
      expect(head.body).toBe('')
      // The range's coverage only, which the filename needs: no chunk of the export.
      const coverageOnly = store.queries()
      await app.inject(twapsUrl({ ...RANGE, limit: 1 }))
      expect(spent).toBeLessThan(store.queries() - coverageOnly)
      expect(app.exportSlots.inUse).toBe(0)
    } finally {
      await app.close()
    }
  })

  for (const [name, query] of [
    ['CSV', { format: 'csv' }],
    ['CSV of events', { format: 'csv', latest_per_twap: false }],
    ['NDJSON of events', { format: 'ndjson', latest_per_twap: false }],
  ] as const) {
    it(`stops reading the database at once when the client of ${name} goes away`, async () => {
      const store = counting(api.store.db)
      const app = await buildApp({ db: store.db, config: testConfig() })
      try {
        await app.listen({ port: 0, host: '127.0.0.1' })
        const url = twapsUrl({ ...RANGE, ...query })
        const whole = store.queries()
        await app.inject(url)
        const wholeCost = store.queries() - whole

        const start = store.queries()
        const res = await open(app, url)
        expect(res.statusCode).toBe(200)
        res.destroy()
        await waitFor(() => app.exportSlots.inUse === 0)
        // The queries of the chunk in flight when the server saw the client leave may still
        // finish; after them nothing more is read, and less than the whole export was.
        await settle()
        const stopped = store.queries()
        await settle()
        expect(store.queries()).toBe(stopped)
        expect(stopped - start).toBeLessThan(wholeCost)
      } finally {
        await app.close()
      }
    })
  }

  it('streams at most EXPORT_MAX_CONCURRENT exports; more answer 503 with Retry-After while other routes still answer', async () => {
    const app = await buildApp({ db: api.store.db, config: testConfig({ api: { exportMaxConcurrent: 2 } }) })
    try {
      await app.listen({ port: 0, host: '127.0.0.1' })
      const url = twapsUrl({ ...RANGE, format: 'ndjson', latest_per_twap: false })
      // Two clients that read nothing hold their slots: the server waits on their sockets.
      const held = [await open(app, url), await open(app, url)]
      expect(held.map((r) => r.statusCode)).toEqual([200, 200])
      expect(app.exportSlots.inUse).toBe(2)

      const refused = await app.inject(url)
      expect(refused.statusCode).toBe(503)
      expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(refused.headers['retry-after']).toBe('5')
      expect(refused.json()).toMatchObject({ status: 503, detail: '2 exports are already streaming; retry in 5 seconds.' })
      const tax = await app.inject(twapsUrl({ ...RANGE, format: 'koinly' }))
      expect(tax.statusCode).toBe(503)

      // HEAD and the JSON pages take no slot.
      expect((await app.inject({ method: 'HEAD', url })).statusCode).toBe(200)
      expect((await app.inject(twapsUrl({ ...RANGE, limit: 5 }))).statusCode).toBe(200)
      expect((await app.inject('/healthz')).statusCode).toBe(200)

      for (const res of held) res.destroy()
      await waitFor(() => app.exportSlots.inUse === 0)
      const after = await app.inject(twapsUrl({ ...RANGE, end: '2025-02-01T10:00:00Z', format: 'csv' }))
      expect(after.statusCode).toBe(200)
      expect(after.body.trimEnd().split('\n')).toHaveLength(61 + 1)
      await waitFor(() => app.exportSlots.inUse === 0)
    } finally {
      await app.close()
    }
  })
})
