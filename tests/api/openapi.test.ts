import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runEtl } from '#src/etl/run.ts'
import { engine } from '../support/db.ts'
import { createTestApi, testConfig, type TestApi } from '../support/api.ts'

const SAMPLE = fileURLToPath(new URL('../../samples/twap-sample.parquet', import.meta.url))

interface Parameter { name: string; in: string; example?: unknown }
interface Operation {
  operationId?: string
  parameters?: Parameter[]
  responses: Record<string, { description: string; headers?: Record<string, unknown>; content?: Record<string, { schema: unknown; example?: { status?: number } }> }>
}
interface OpenApiDocument {
  servers?: unknown[]
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Record<string, unknown>>; securitySchemes: Record<string, unknown> }
}

describe(`the OpenAPI document, for generating clients, on ${engine}`, () => {
  let api: TestApi
  let doc: OpenApiDocument

  beforeAll(async () => {
    api = await createTestApi()
    await runEtl({ db: api.store.db, config: testConfig(), logger: pino({ level: 'silent' }) }, { source: { kind: 'local', paths: [SAMPLE] } })
    doc = (await api.app.inject('/openapi.json')).json<OpenApiDocument>()
  })
  afterAll(() => api?.destroy())

  const operations = () => Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })))

  it('names its schemas once under components and refers to them', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Twap', 'TwapEvent', 'TwapsPage', 'TwapHistory', 'Problem', 'Side', 'TwapStatus']))
    const text = JSON.stringify(doc.paths)
    expect(text).toContain('"$ref":"#/components/schemas/TwapsPage"')
    expect(text).toContain('"$ref":"#/components/schemas/Problem"')
    expect(text).not.toContain('x-component')
    // Each named schema appears inline nowhere: the Problem's description, for one, only once in the whole document.
    expect(JSON.stringify(doc).split('RFC 9457 problem details.').length).toBe(2)
    expect(JSON.stringify(doc.components.schemas.Side)).toContain('"enum":["B","A"]')
    expect(JSON.stringify(doc.components.schemas.TwapStatus)).toContain('"enum":["waitingForTrigger","activated","finished","terminated","stopped"]')
    expect(JSON.stringify(doc.components.schemas.TwapEvent)).toContain('"format":"date-time"')
  })

  it('gives every operation an id, a description of every response, error examples of their own status and the headers sent', () => {
    expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })])
    expect(doc.components.securitySchemes).toHaveProperty('apiKey')
    const ids = operations().map(({ op }) => op.operationId)
    expect(ids).toEqual(expect.arrayContaining(['listTwaps', 'getTwap', 'getHealth', 'getMetrics', 'getIndex', 'getOpenApi']))
    expect(new Set(ids).size).toBe(ids.length)
    for (const { path, op } of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        expect(response.description, `${path} ${status}`).not.toBe('Default Response')
        expect(response.headers, `${path} ${status}`).toHaveProperty('X-Request-Id')
        const problem = response.content?.['application/problem+json']
        if (problem) expect(problem.example?.status, `${path} ${status}`).toBe(Number(status))
      }
    }
    const list = doc.paths['/api/v1/twaps']!.get!
    expect(list.responses['200']!.headers).toHaveProperty('Content-Disposition')
    expect(list.responses['429']!.headers).toHaveProperty('Retry-After')
    expect(list.responses['200']!.headers).toHaveProperty('X-RateLimit-Remaining')
  })

  it('pre-fills examples that answer with data on the bundled sample', async () => {
    const list = doc.paths['/api/v1/twaps']!.get!
    const query = Object.fromEntries(list.parameters!.filter((p) => p.example !== undefined).map((p) => [p.name, String(p.example)]))
    expect(Object.keys(query).sort()).toEqual(['end', 'start', 'wallet'])
    const page = await api.app.inject('/api/v1/twaps?' + new URLSearchParams(query).toString())
    expect(page.statusCode).toBe(200)
    expect(page.json<{ twaps: unknown[] }>().twaps.length).toBeGreaterThan(0)
    const id = doc.paths['/api/v1/twaps/{twap_id}']!.get!.parameters!.find((p) => p.name === 'twap_id')!.example
    const history = await api.app.inject(`/api/v1/twaps/${String(id)}`)
    expect(history.statusCode).toBe(200)
  })
})
