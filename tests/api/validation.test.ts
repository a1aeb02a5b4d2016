import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { OTHER_WALLET, WALLET, createTestApi, loadEvents, twapLifecycle, twapsUrl, type TestApi } from '../support/api.ts'

const GOOD = { wallet: WALLET, start: '2025-11-01', end: '2025-11-04' }

describe(`request validation on ${engine}`, () => {
  let api: TestApi
  let cursorOfOtherWallet: string

  beforeAll(async () => {
    api = await createTestApi()
    await loadEvents(api.store.db, [
      ...twapLifecycle('1', '2025-11-02T00:00:00Z', { wallet: OTHER_WALLET }),
      ...twapLifecycle('2', '2025-11-03T00:00:00Z', { wallet: OTHER_WALLET }),
    ])
    const page = await api.app.inject(twapsUrl({ ...GOOD, wallet: OTHER_WALLET, limit: 1 }))
    cursorOfOtherWallet = page.json<{ next_cursor: string }>().next_cursor
  })
  afterAll(() => api?.destroy())

  async function expectProblem(url: string, parameters: string[]) {
    const res = await api.app.inject(url)
    expect(res.statusCode, url).toBe(422)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    const body = res.json<{ type: string; title: string; status: number; detail: string; errors: { parameter: string; message: string }[] }>()
    expect(body).toMatchObject({ type: 'about:blank', title: 'Invalid request parameters', status: 422 })
    expect(body.errors.map((e) => e.parameter), url).toEqual(parameters)
    for (const e of body.errors) expect(body.detail).toContain(`${e.parameter}: ${e.message}`)
    return body
  }

  const omit = (key: keyof typeof GOOD) => Object.fromEntries(Object.entries(GOOD).filter(([k]) => k !== key))

  it.each([
    ['wallet missing', omit('wallet'), 'wallet'],
    ['wallet not hex', { ...GOOD, wallet: '0x' + 'zz'.repeat(20) }, 'wallet'],
    ['wallet too short', { ...GOOD, wallet: '0x' + 'ab'.repeat(19) + 'a' }, 'wallet'],
    ['wallet without 0x', { ...GOOD, wallet: 'ab'.repeat(21) }, 'wallet'],
    ['wallet empty', { ...GOOD, wallet: '' }, 'wallet'],
    ['start missing', omit('start'), 'start'],
    ['start not a date', { ...GOOD, start: 'yesterday' }, 'start'],
    ['start on 30 February', { ...GOOD, start: '2025-02-30' }, 'start'],
    ['start at hour 25', { ...GOOD, start: '2025-11-01T25:00:00Z' }, 'start'],
    ['start as epoch seconds', { ...GOOD, start: '1730419200' }, 'start'],
    ['end missing', omit('end'), 'end'],
    ['end with a bad zone', { ...GOOD, end: '2025-11-04T00:00:00+25:00' }, 'end'],
    ['end empty', { ...GOOD, end: '' }, 'end'],
    ['asset empty', { ...GOOD, asset: '' }, 'asset'],
    ['asset with a control character', { ...GOOD, asset: 'SO\u0000L' }, 'asset'],
    ['asset too long', { ...GOOD, asset: 'A'.repeat(65) }, 'asset'],
    ['limit zero', { ...GOOD, limit: 0 }, 'limit'],
    ['limit above 5000', { ...GOOD, limit: 5001 }, 'limit'],
    ['limit not a number', { ...GOOD, limit: 'ten' }, 'limit'],
    ['limit fractional', { ...GOOD, limit: 1.5 }, 'limit'],
    ['limit infinite', { ...GOOD, limit: '1e400' }, 'limit'],
    ['latest_per_twap not a boolean', { ...GOOD, latest_per_twap: 'yes' }, 'latest_per_twap'],
    ['format unknown', { ...GOOD, format: 'xml' }, 'format'],
    ['cursor with bad characters', { ...GOOD, cursor: '!!!' }, 'cursor'],
    ['cursor that is not ours', { ...GOOD, cursor: 'abc' }, 'cursor'],
    ['cursor of JSON', { ...GOOD, cursor: Buffer.from('{"ts":"2025-11-01","id":1}').toString('base64url') }, 'cursor'],
  ])('%s → 422 naming it', async (_case, query, parameter) => {
    await expectProblem(twapsUrl(query as Record<string, string>), [parameter])
  })

  it('names start and end when start is after end', async () => {
    await expectProblem(twapsUrl({ ...GOOD, start: '2025-11-05T00:00:00.000001Z', end: '2025-11-04' }), ['start', 'end'])
  })

  // Every route with a numeric query parameter: only decimal digits are a number.
  const NUMERIC_PARAMETERS = [
    ['/api/v1/twaps', 'limit', GOOD],
    ['/api/v1/fills', 'limit', GOOD],
  ] as const

  it('lists every numeric query parameter of every route in the case below', () => {
    const spec = api.app.swagger() as { paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema: { type?: string } }[] }>> }
    const numeric = Object.entries(spec.paths).flatMap(([path, item]) => Object.values(item).flatMap((op) =>
      (op.parameters ?? []).filter((p) => p.in === 'query' && (p.schema.type === 'integer' || p.schema.type === 'number')).map((p) => `${path} ${p.name}`)))
    expect(numeric.sort()).toEqual(NUMERIC_PARAMETERS.map(([path, name]) => `${path} ${name}`).sort())
  })

  it.each(['0x10', '0b11', '0o7', '1e3', '+5', ' 5', '5 ', '5.0', '-0', '٥', '5%00'])('%j as a number → 422 naming it, on every route', async (written) => {
    for (const [path, name, query] of NUMERIC_PARAMETERS) {
      const url = `${path}?${new URLSearchParams(query).toString()}&${name}=${encodeURIComponent(written).replace('%2500', '%00')}`
      await expectProblem(url, [name])
    }
  })

  it('reads decimal digits, leading zeros included, as the decimal number', async () => {
    const twaps = await api.app.inject(twapsUrl({ ...GOOD, wallet: OTHER_WALLET, limit: '01' }))
    expect(twaps.statusCode).toBe(200)
    expect(twaps.json<{ twaps: unknown[] }>().twaps).toHaveLength(1)
    const fills = await api.app.inject(`/api/v1/fills?${new URLSearchParams(GOOD).toString()}&limit=0010`)
    expect(fills.statusCode).toBe(200)
  })

  it('names the cursor of another wallet\'s query', async () => {
    await expectProblem(twapsUrl({ ...GOOD, cursor: cursorOfOtherWallet }), ['cursor'])
  })

  it('names a parameter given twice', async () => {
    await expectProblem(`/api/v1/twaps?wallet=${WALLET}&wallet=${OTHER_WALLET}&start=2025-11-01&end=2025-11-02`, ['wallet'])
  })

  it('names every bad parameter at once, not only the first', async () => {
    const res = await api.app.inject('/api/v1/twaps?wallet=0x12&start=2025-13-01&limit=-1&latest_per_twap=maybe&format=pdf&cursor=%25')
    expect(res.statusCode).toBe(422)
    const body = res.json<{ errors: { parameter: string; message: string }[] }>()
    expect(body.errors.map((e) => e.parameter).sort()).toEqual(['cursor', 'end', 'format', 'latest_per_twap', 'limit', 'start', 'wallet'])
    expect(body.errors).toContainEqual({ parameter: 'wallet', message: 'must be 0x followed by 40 hex digits' })
    expect(body.errors).toContainEqual({ parameter: 'end', message: 'is required' })
    expect(body.errors).toContainEqual({ parameter: 'limit', message: 'must be an integer from 1 to 5000' })
  })

  it('accepts every documented form of each parameter', async () => {
    for (const query of [
      { ...GOOD, start: '2025-11-01T00:00:00Z', end: '2025-11-04T00:00:00.123456+02:00' },
      { ...GOOD, start: '2025-11-01T00:00', end: '2025-11-04T00:00:00.5' },
      { ...GOOD, start: '2025-11-01 00:00:00', end: '2025-11-04T00:00:00-0330' },
      { ...GOOD, limit: 1, latest_per_twap: 'true' },
      { ...GOOD, limit: 5000, latest_per_twap: '0', asset: 'PURR/USDC', format: 'json' },
      { ...GOOD, start: '2025-11-04', end: '2025-11-04' },
    ]) {
      const res = await api.app.inject(twapsUrl(query))
      expect(res.statusCode, `${JSON.stringify(query)}: ${res.body}`).toBe(200)
    }
  })

  it('answers no malformed request with a 5xx or a stack trace', async () => {
    const huge = 'f'.repeat(8000)
    const urls = [
      `/api/v1/twaps?wallet=${huge}&start=${huge}&end=${huge}&asset=${huge}&limit=${'9'.repeat(400)}&cursor=${huge}`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&limit=1e400`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=9999-12-31T23:59:59.999999-23:59&end=9999-12-31`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=0001-01-01&end=9999-12-31T23:59:59.999999999Z`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=0001-01-01T00:00:00%2B01:00&end=2025-01-01`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=0000-01-01&end=2025-01-01`,
      '/api/v1/twaps?wallet=%F0%9F%92%A9&start=%E2%80%AE2025&end=%00',
      '/api/v1/twaps?wallet=%ED%A0%80&start=%C0%AF&end=%FF%FE',
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&asset=%F0%9F%92%A9`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&asset=%ED%A0%80`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&asset=%00`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&asset=';DROP TABLE twap_status;--`,
      "/api/v1/twaps?wallet=0x' OR '1'='1&start=2025-11-01' OR 1=1--&end=now()",
      '/api/v1/twaps?wallet=&start=&end=&asset=&limit=&cursor=&format=&latest_per_twap=',
      '/api/v1/twaps?wallet&start&end',
      '/api/v1/twaps?wallet[]=1&start[$gt]=2025&end.x=1',
      '/api/v1/twaps?wallet=a&wallet=b&wallet=c&start=1&start=2&end=3&end=4&limit=1&limit=2',
      '/api/v1/twaps?%=%&&&==&wallet=%zz',
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&cursor=${Buffer.from('c1|2025-11-01T00:00:00Z|1|99999999999999999999|0123456789abcdef').toString('base64url')}`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&cursor=${Buffer.from('{"$where":"1"}').toString('base64url')}`,
      `/api/v1/twaps?wallet=0x${'ab'.repeat(20)}&start=2025-11-01&end=2025-11-04&cursor=${'A'.repeat(301)}`,
      '/api/v1/twaps/' + '9'.repeat(20),
      '/api/v1/twaps/' + '9'.repeat(5000),
      '/api/v1/twaps/%00',
      '/api/v1/twaps/..%2F..%2Fetc%2Fpasswd',
      '/api/v1/twaps/%',
      '/api/v1/twaps//',
      '/api/v1//twaps',
      '/API/V1/TWAPS',
      '/%61pi/v1/twaps',
      '/healthz?verbose=%00',
      '/docs/%2e%2e/%2e%2e/package.json',
      '/' + 'x'.repeat(10000),
    ]
    for (const url of urls) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE', 'OPTIONS'] as const) {
        const res = await api.app.inject({ method, url, headers: { accept: 'text/csv', 'x-request-id': '\u2603'.repeat(10) } })
        expect(res.statusCode, `${method} ${url.slice(0, 120)}: ${res.body.slice(0, 300)}`).toBeLessThan(500)
        expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+/)
      }
    }
    for (const headers of [
      { accept: '\u0000' }, { accept: 'text/csv;q=abc, */*;q=' }, { 'x-request-id': 'x'.repeat(1000) }, { 'x-api-key': 'k' },
      { 'content-type': 'application/json' }, { 'accept-encoding': 'gzip;q=' }, { origin: 'null' },
    ]) {
      const res = await api.app.inject({ url: twapsUrl(GOOD), headers })
      expect(res.statusCode, JSON.stringify(headers)).toBe(200)
    }
    const post = await api.app.inject({ method: 'POST', url: twapsUrl(GOOD), headers: { 'content-type': 'application/json' }, payload: '{"wallet": ' })
    expect(post.statusCode).toBeLessThan(500)
  })
})
