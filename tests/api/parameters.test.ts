import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, loadEvents, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

const GOOD = { wallet: WALLET, start: '2025-11-01', end: '2025-11-04' }

interface Problem { status: number; detail: string; errors?: { parameter: string; message: string }[] }

describe(`unknown parameters and wrong methods on ${engine}`, () => {
  let api: TestApi

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [...twapLifecycle('1', '2025-11-02T00:00:00Z'), ...twapLifecycle('2', '2025-11-03T00:00:00Z')])
  })
  afterAll(() => api?.destroy())

  async function problem(url: string, status = 422) {
    const res = await api.app.inject(url)
    expect(res.statusCode, url).toBe(status)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    return res.json<Problem>()
  }

  it('answers offset and page, which other APIs page with, with a 422 saying to use cursor', async () => {
    for (const name of ['offset', 'page']) {
      const body = await problem(twapsUrl({ ...GOOD, limit: 1, [name]: 1 }))
      expect(body.errors).toEqual([{ parameter: name, message: expect.stringMatching(/page with cursor.*next_cursor/) }])
      expect(body.detail).toContain(`${name}: is not supported`)
    }
  })

  it('catches a misspelt parameter, naming it and the one probably meant', async () => {
    const body = await problem(twapsUrl({ ...GOOD, lastest_per_twap: false }))
    expect(body.errors).toEqual([{ parameter: 'lastest_per_twap', message: expect.stringContaining('did you mean latest_per_twap?') }])
    expect(body.errors![0]!.message).toContain('it takes wallet, start, end, asset, latest_per_twap, limit, cursor, format')
  })

  it('names every unknown parameter beside the malformed ones', async () => {
    const body = await problem(twapsUrl({ ...GOOD, wallet: 'nope', foo: 1, bar: 2 }))
    expect(body.errors!.map((e) => e.parameter).sort()).toEqual(['bar', 'foo', 'wallet'])
  })

  it('refuses query parameters on routes that take none', async () => {
    const byId = await problem('/api/v1/twaps/1?offset=10')
    expect(byId.errors).toEqual([{ parameter: 'offset', message: expect.stringContaining('cursor') }])
    const health = await problem('/healthz?verbose=1')
    expect(health.errors).toEqual([{ parameter: 'verbose', message: 'is not a parameter of this endpoint, which takes none' }])
  })

  it('still answers the known parameters as before', async () => {
    const res = await api.app.inject(twapsUrl({ ...GOOD, limit: 1, latest_per_twap: true, format: 'json' }))
    expect(res.statusCode).toBe(200)
    expect(res.json<{ twaps: unknown[] }>().twaps).toHaveLength(1)
  })

  it('answers a wrong method on a known path with 405, an Allow header and a problem', async () => {
    for (const [method, url] of [['POST', twapsUrl(GOOD)], ['DELETE', '/api/v1/twaps/1'], ['PUT', '/healthz']] as const) {
      const res = await api.app.inject({ method, url })
      expect(res.statusCode, `${method} ${url}`).toBe(405)
      expect(res.headers.allow).toBe('GET, HEAD')
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(res.json()).toMatchObject({ type: 'about:blank', title: 'Method Not Allowed', status: 405, detail: expect.stringContaining(`not ${method}`) })
      expect(res.headers['x-request-id']).toEqual(expect.any(String))
    }
  })

  it('keeps 404 for a path no method answers', async () => {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/nothing' })
    expect(res.statusCode).toBe(404)
    expect(res.headers.allow).toBeUndefined()
  })
})
