import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { loadConfig } from '#src/config.ts'
import { engine, createTestStore, type TestStore } from '../support/db.ts'
import { WALLET, testConfig, twapsUrl, type ConfigChanges } from '../support/api.ts'

const QUERY = twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2025-01-02', limit: 1 })

describe(`abuse limits on ${engine}`, () => {
  let store: TestStore
  const apps: FastifyInstance[] = []
  beforeAll(async () => {
    store = await createTestStore()
  })
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
  })
  afterAll(() => store?.destroy())

  async function app(changes: ConfigChanges): Promise<FastifyInstance> {
    const built = await buildApp({ db: store.db, config: testConfig(changes) })
    apps.push(built)
    return built
  }

  it('counts wrong keys per client and answers 429 after AUTH_FAILURES_PER_MINUTE, the right key included; every 401 says WWW-Authenticate', async () => {
    const api = await app({ api: { apiKeys: ['right-key'], authFailuresPerMinute: 3 } })
    for (let i = 0; i < 3; i++) {
      const res = await api.inject({ url: QUERY, headers: { 'x-api-key': `guess-${i}` } })
      expect(res.statusCode).toBe(401)
      expect(res.headers['www-authenticate']).toBe('ApiKey realm="hl-twap", header="X-API-Key"')
    }
    for (const key of ['guess-4', 'right-key']) {
      const res = await api.inject({ url: QUERY, headers: { 'x-api-key': key } })
      expect(res.statusCode).toBe(429)
      expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0)
      expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(60)
    }
    // Another client is not affected, and the open routes stay open for the one refused.
    expect((await api.inject({ url: QUERY, remoteAddress: '10.0.0.9', headers: { 'x-api-key': 'right-key' } })).statusCode).toBe(200)
    expect((await api.inject('/healthz')).statusCode).toBe(200)
  })

  it('protects /metrics with METRICS_API_KEY when set: Bearer or X-API-Key, else 401 with WWW-Authenticate', async () => {
    const api = await app({ api: { metricsApiKey: 'metrics-secret' } })
    const refused = await api.inject('/metrics')
    expect(refused.statusCode).toBe(401)
    expect(refused.headers['www-authenticate']).toBe('Bearer realm="hl-twap-metrics"')
    expect(refused.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect((await api.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401)
    const bearer = await api.inject({ url: '/metrics', headers: { authorization: 'Bearer metrics-secret' } })
    expect(bearer.statusCode).toBe(200)
    expect(bearer.body).toContain('hltwap_http_requests_total')
    expect((await api.inject({ url: '/metrics', headers: { 'x-api-key': 'metrics-secret' } })).statusCode).toBe(200)
    expect((await api.inject('/healthz')).statusCode).toBe(200)
    expect((await (await app({})).inject('/metrics')).statusCode).toBe(200)
  })

  it('keys the rate limit on the TCP peer unless TRUST_PROXY trusts it, then on X-Forwarded-For', async () => {
    const untrusted = await app({ api: { rateLimitPerMinute: 2 } })
    const trusted = await app({ api: { rateLimitPerMinute: 2, trustProxy: ['127.0.0.1/8'] } })
    const via = (api: FastifyInstance, client: string) => api.inject({ url: QUERY, remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': client } })
    // Untrusted: every client behind the proxy shares the proxy's bucket.
    expect([(await via(untrusted, '1.1.1.1')).statusCode, (await via(untrusted, '2.2.2.2')).statusCode, (await via(untrusted, '3.3.3.3')).statusCode]).toEqual([200, 200, 429])
    // Trusted: each client its own bucket; a forged header from a peer not trusted changes nothing.
    expect([(await via(trusted, '1.1.1.1')).statusCode, (await via(trusted, '1.1.1.1')).statusCode, (await via(trusted, '1.1.1.1')).statusCode]).toEqual([200, 200, 429])
    expect((await via(trusted, '2.2.2.2')).statusCode).toBe(200)
    const outsider = () => trusted.inject({ url: QUERY, remoteAddress: '192.0.2.7', headers: { 'x-forwarded-for': `9.9.9.${Math.random() * 250 | 0}` } })
    expect([(await outsider()).statusCode, (await outsider()).statusCode, (await outsider()).statusCode]).toEqual([200, 200, 429])
  })

  it('reads TRUST_PROXY as true, false, a hop count or addresses and ranges, and names a bad one', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).api.trustProxy).toBe(true)
    expect(loadConfig({}).api.trustProxy).toBe(false)
    expect(loadConfig({ TRUST_PROXY: '2' }).api.trustProxy).toBe(2)
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.5,::1' }).api.trustProxy).toEqual(['10.0.0.0/8', '192.168.1.5', '::1'])
    expect(() => loadConfig({ TRUST_PROXY: '10.0.0.0/33' })).toThrow('TRUST_PROXY must be true, false, a hop count or comma-separated IP addresses / CIDR ranges (got "10.0.0.0/33")')
    expect(() => loadConfig({ TRUST_PROXY: 'lb.internal' })).toThrow('(got "lb.internal")')
  })

  describe('with a shared Redis store', () => {
    let redis: ChildProcess
    let url: string
    beforeAll(async () => {
      const port = await freePort()
      redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
      url = `redis://127.0.0.1:${port}`
      await waitForPort(port)
    })
    afterAll(() => {
      redis?.kill()
    })

    it('lets two instances enforce one limit', async () => {
      const changes = { api: { rateLimitPerMinute: 3, rateLimitRedisUrl: url } }
      const [one, two] = [await app(changes), await app(changes)]
      const statuses = []
      for (const api of [one, two, one, two]) statuses.push((await api.inject(QUERY)).statusCode)
      expect(statuses).toEqual([200, 200, 200, 429])
      // Each instance alone would have let its second request through.
      const [alone] = [await app({ api: { rateLimitPerMinute: 3 } })]
      expect((await alone.inject(QUERY)).statusCode).toBe(200)
    })
  })
})

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.end(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`redis-server did not listen on ${port}`)
}
