import { Counter, Registry } from 'prom-client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, twapsUrl, type TestApi } from '../support/api.ts'

const QUERY = twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2026-01-01' })

interface OpenApiDocument {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, {
    summary?: string
    parameters?: { name: string; in: string; required?: boolean; schema: object }[]
    responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>
  }>>
  components?: { securitySchemes?: Record<string, unknown> }
  security?: unknown[]
}

describe(`documents and operations on ${engine}`, () => {
  let api: TestApi
  beforeAll(async () => {
    api = await createTestApi()
  })
  afterAll(() => api?.destroy())

  it('serves an OpenAPI 3 document listing every route with its parameters and responses', async () => {
    const res = await api.app.inject('/openapi.json')
    expect(res.statusCode).toBe(200)
    const doc = res.json<OpenApiDocument>()
    expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/)
    expect(doc.info).toMatchObject({ title: 'hyperliquid-twap', version: expect.any(String) })
    expect(Object.keys(doc.paths).sort()).toEqual(['/', '/api/v1/coverage', '/api/v1/fills', '/api/v1/twaps', '/api/v1/twaps/{twap_id}', '/api/v1/twaps/{twap_id}/fills', '/api/v1/wallets/{wallet}/summary', '/healthz', '/info', '/metrics', '/openapi.json'])
    // Hyperliquid's info endpoint takes POST bodies, as Hyperliquid's own does.
    expect(Object.keys(doc.paths['/info']!)).toEqual(['post'])
    for (const [path, operations] of Object.entries(doc.paths).filter(([p]) => p !== '/info')) {
      expect(Object.keys(operations), path).toEqual(['get'])
      const get = operations.get!
      expect(get.summary, path).toEqual(expect.any(String))
      expect(get.responses['200'], path).toBeDefined()
      for (const response of Object.values(get.responses)) {
        expect(response.description, path).toEqual(expect.any(String))
        for (const media of Object.values(response.content ?? {})) expect(media.schema, path).toEqual(expect.any(Object))
      }
    }
    const list = doc.paths['/api/v1/twaps']!.get!
    expect(list.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([
      ['wallet', 'query', true], ['start', 'query', true], ['end', 'query', true], ['asset', 'query', false],
      ['latest_per_twap', 'query', false], ['limit', 'query', false], ['cursor', 'query', false], ['format', 'query', false],
      ['csv_safe', 'query', false],
    ])
    expect(Object.keys(list.responses).sort()).toEqual(['200', '401', '422', '429', '503'])
    expect(Object.keys(list.responses['200']!.content!).sort()).toEqual(['application/json', 'application/x-ndjson', 'text/csv'])
    expect(Object.keys(list.responses['422']!.content!)).toEqual(['application/problem+json'])
    const byId = doc.paths['/api/v1/twaps/{twap_id}']!.get!
    expect(byId.parameters!.map((p) => [p.name, p.in, p.required])).toEqual([['twap_id', 'path', true]])
    expect(Object.keys(byId.responses).sort()).toEqual(['200', '401', '404', '422', '429', '503'])
    // The key scheme is declared for generated clients, and optional without API_KEYS.
    expect(doc.components?.securitySchemes).toHaveProperty('apiKey')
    expect(doc.security).toEqual([{}, { apiKey: [] }])
  })

  it('serves interactive docs at /docs', async () => {
    const res = await api.app.inject('/docs/')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/html/)
    expect(res.body).toContain('swagger-ui')
    expect([200, 302]).toContain((await api.app.inject('/docs')).statusCode)
  })

  it('serves a small index of links at /', async () => {
    const res = await api.app.inject('/')
    expect(res.json()).toMatchObject({ name: 'hyperliquid-twap', links: { health: '/healthz', docs: '/docs', openapi: '/openapi.json' } })
  })

  it('answers unknown routes and URLs with problems', async () => {
    const unknown = await api.app.inject('/api/v2/nothing')
    expect(unknown.statusCode).toBe(404)
    expect(unknown.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(unknown.json()).toMatchObject({ type: 'about:blank', title: 'Not Found', status: 404 })
    const badUrl = await api.app.inject('/api/v1/twaps/%')
    expect([badUrl.statusCode, badUrl.headers['content-type']]).toEqual([400, 'application/problem+json; charset=utf-8'])
    const longParam = await api.app.inject('/api/v1/twaps/' + '1'.repeat(500))
    expect([longParam.statusCode, longParam.headers['content-type']]).toEqual([414, 'application/problem+json; charset=utf-8'])
  })

  it('returns a request id, the caller\'s own when it is a plain token', async () => {
    const fresh = await api.app.inject('/healthz')
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect((await api.app.inject({ url: '/healthz', headers: { 'x-request-id': 'lb-1234.abc' } })).headers['x-request-id']).toBe('lb-1234.abc')
    expect((await api.app.inject({ url: '/healthz', headers: { 'x-request-id': 'bad id\u2603' } })).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/)
    expect((await api.app.inject('/nowhere')).headers['x-request-id']).toEqual(expect.any(String))
  })

  it('allows any origin by default', async () => {
    const res = await api.app.inject({ url: QUERY, headers: { origin: 'https://tax.example' } })
    expect(res.headers['access-control-allow-origin']).toBe('*')
    expect(res.headers['access-control-expose-headers']).toContain('content-disposition')
  })
})

describe(`metrics on ${engine}`, () => {
  let api: TestApi
  afterEach(() => api?.destroy())

  it('counts requests and their latency by route pattern and status, in the registry given', async () => {
    const registry = new Registry()
    new Counter({ name: 'hltwap_etl_runs_total', help: 'ETL runs.', registers: [registry] }).inc()
    api = await createTestApi({ registry })
    await api.app.inject('/api/v1/twaps/123')
    await api.app.inject('/api/v1/twaps/456')
    await api.app.inject('/api/v1/twaps/x')
    await api.app.inject('/no/such/page')
    const res = await api.app.inject('/metrics')
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-type']).toMatch(/^text\/plain/)
    expect(res.body).toContain('hltwap_http_requests_total{method="GET",route="/api/v1/twaps/:twap_id",status_code="404"} 2')
    expect(res.body).toContain('hltwap_http_requests_total{method="GET",route="/api/v1/twaps/:twap_id",status_code="422"} 1')
    expect(res.body).toContain('hltwap_http_requests_total{method="GET",route="unmatched",status_code="404"} 1')
    expect(res.body).toMatch(/hltwap_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/v1\/twaps\/:twap_id",status_code="404"\} \d/)
    expect(res.body).toContain('hltwap_etl_runs_total 1')
    // A second app on the same registry (a restart in tests) reuses the metrics.
    const again = await createTestApi({ registry })
    await again.destroy()
  })
})

describe(`API keys and rate limit on ${engine}`, () => {
  let api: TestApi
  afterEach(() => api?.destroy())

  it('requires a configured key on /api/ routes only, with a 401 problem', async () => {
    api = await createTestApi({ api: { apiKeys: ['k-one', 'k-two'] } })
    for (const headers of [{}, { 'x-api-key': 'wrong' }, { 'x-api-key': '' }]) {
      const res = await api.app.inject({ url: QUERY, headers })
      expect(res.statusCode).toBe(401)
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(res.json()).toMatchObject({ status: 401, title: 'Unauthorized', detail: expect.stringContaining('x-api-key') })
    }
    expect((await api.app.inject('/%61pi/v1/twaps/1')).statusCode).toBe(401)
    expect((await api.app.inject({ url: QUERY, headers: { 'x-api-key': 'k-two' } })).statusCode).toBe(200)
    expect((await api.app.inject({ url: '/api/v1/twaps/1', headers: { 'x-api-key': 'k-one' } })).statusCode).toBe(404)
    for (const open of ['/healthz', '/metrics', '/openapi.json', '/']) expect((await api.app.inject(open)).statusCode, open).toBe(200)
    const doc = (await api.app.inject('/openapi.json')).json<OpenApiDocument>()
    expect(doc.components?.securitySchemes).toEqual({ apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }) })
    expect(doc.security).toEqual([{ apiKey: [] }])
  })

  it('limits requests a minute per client with a 429 problem and Retry-After, leaving health open', async () => {
    api = await createTestApi({ api: { rateLimitPerMinute: 2 } })
    expect((await api.app.inject(QUERY)).statusCode).toBe(200)
    expect((await api.app.inject('/api/v1/twaps/1')).statusCode).toBe(404)
    const limited = await api.app.inject(QUERY)
    expect(limited.statusCode).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect(limited.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests', detail: expect.stringContaining('2 requests a minute') })
    for (let i = 0; i < 5; i++) expect((await api.app.inject('/healthz')).statusCode).toBe(200)
    expect((await api.app.inject({ url: QUERY, remoteAddress: '10.0.0.2' })).statusCode).toBe(200)
  })

  it('allows only the configured origins', async () => {
    api = await createTestApi({ api: { corsOrigins: ['https://tax.example'] } })
    const allowed = await api.app.inject({ url: QUERY, headers: { origin: 'https://tax.example' } })
    expect(allowed.headers['access-control-allow-origin']).toBe('https://tax.example')
    const other = await api.app.inject({ url: QUERY, headers: { origin: 'https://evil.example' } })
    expect(other.headers['access-control-allow-origin']).toBeUndefined()
  })
})
