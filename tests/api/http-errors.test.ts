import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { WALLET, createTestApi, twapsUrl, type TestApi } from '../support/api.ts'

/** Sends `bytes` as they are on a new connection and returns everything the server wrote before closing it. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => { text += chunk })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
    socket.write(bytes)
  })
}

function parse(response: string): { status: number; headers: Record<string, string>; body: string } {
  const [head = '', body = ''] = response.split('\r\n\r\n', 2)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

describe(`every 4xx as a problem, and the headers of every answer, on ${engine}`, () => {
  let api: TestApi
  let port: number

  beforeAll(async () => {
    api = await createTestApi()
    await api.app.listen({ port: 0, host: '127.0.0.1' })
    port = (api.app.server.address() as AddressInfo).port
  })
  afterAll(() => api?.destroy())

  it.each([
    ['a malformed request line', 'GET /healthz HTTP/1.1 extra\r\nHost: x\r\n\r\n', 400],
    ['a header without a colon', 'GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', 400],
    ['a bad method token', 'G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400],
    ['headers over the size limit', `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ])('answers %s that Node refuses with a problem', async (_case, request, status) => {
    const res = parse(await raw(port, request))
    expect(res.status).toBe(status)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.body))
    expect(JSON.parse(res.body)).toMatchObject({ type: 'about:blank', status, detail: expect.stringMatching(/\w/) })
  })

  it.each([
    ['a CORS preflight without its method', { method: 'OPTIONS' as const, url: '/api/v1/twaps', headers: { origin: 'https://example.com' } }, 400],
    ['an unknown route', { method: 'GET' as const, url: '/nowhere' }, 404],
    ['a known path with another method', { method: 'DELETE' as const, url: '/healthz' }, 405],
    ['a body the route cannot parse', { method: 'POST' as const, url: '/info', headers: { 'content-type': 'application/json' }, payload: '' }, 422],
    ['a body of an unknown type', { method: 'POST' as const, url: '/info', headers: { 'content-type': 'text/xml' }, payload: '<a/>' }, 422],
  ])('answers %s with a problem', async (_case, request, status) => {
    const res = await api.app.inject(request)
    expect(res.statusCode).toBe(status)
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.json()).toMatchObject({ type: 'about:blank', status, detail: expect.stringMatching(/\w/) })
  })

  it('says nosniff on every answer, Vary: Accept where Accept chooses the body, and a Cache-Control on the routes without data', async () => {
    for (const url of ['/', '/healthz', '/metrics', '/openapi.json', twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2025-01-02' })]) {
      expect((await api.app.inject(url)).headers['x-content-type-options'], url).toBe('nosniff')
    }
    const root = await api.app.inject({ url: '/', headers: { accept: 'text/html' } })
    expect(root.headers.vary).toMatch(/(^|, )Accept(,|$)/)
    expect(root.headers['cache-control']).toBe('no-cache')
    const page = await api.app.inject(twapsUrl({ wallet: WALLET, start: '2025-01-01', end: '2025-01-02' }))
    expect(page.headers.vary).toMatch(/(^|, )Accept(,|$)/)
    expect((await api.app.inject('/healthz')).headers['cache-control']).toBe('no-store')
    expect((await api.app.inject('/metrics')).headers['cache-control']).toBe('no-store')
    expect((await api.app.inject('/openapi.json')).headers['cache-control']).toBe('no-cache')
  })
})
