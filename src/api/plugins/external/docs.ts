import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { packageInfo } from '#src/package.ts'
import { COMPONENT_KEY } from '#src/api/schemas/component.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { API_KEY_HEADER } from '#src/api/plugins/app/api-keys.ts'

type Json = Record<string, unknown>

/**
 * The OpenAPI 3.1 document, built from the routes' own schemas, at `/openapi.json`, and
 * the interactive Swagger UI at `/docs`. It collects routes as they are added, so a plugin
 * adding a documented route (`metrics`) depends on it; the routes come after every plugin.
 * The API-key scheme is always declared, so generated clients know of it, and required
 * only when `API_KEYS` is set.
 */
async function docs(app: FastifyInstance): Promise<void> {
  const withKeys = app.config.api.apiKeys.length > 0
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'hyperliquid-twap',
        version: packageInfo.version,
        description: packageInfo.description,
        license: { name: packageInfo.license, identifier: packageInfo.license },
      },
      servers: [{ url: '/', description: 'This server' }],
      tags: [
        { name: 'twaps', description: 'TWAP status events by wallet and time range' },
        { name: 'wallets', description: 'A wallet\'s totals over a time range' },
        { name: 'hyperliquid', description: 'Hyperliquid\'s own info requests, over the whole stored history' },
        { name: 'coverage', description: 'Which hours of each dataset are stored, and whether a range is complete' },
        { name: 'operations', description: 'Health, metrics and this document' },
      ],
      components: {
        securitySchemes: {
          apiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER, description: 'Required only when the server is configured with API keys (API_KEYS).' },
        },
      },
      // Without API_KEYS a key is accepted and ignored: optional, which `{}` says.
      security: withKeys ? [{ apiKey: [] }] : [{}, { apiKey: [] }],
    },
    transformObject: (document) => finishDocument(('openapiObject' in document ? document.openapiObject : document.swaggerObject) as Json),
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.get('/openapi.json', {
    schema: {
      operationId: 'getOpenApi',
      summary: 'This OpenAPI document',
      tags: ['operations'],
      security: [],
      response: { 200: { description: 'OpenAPI 3.1 document.', type: 'object', additionalProperties: true }, ...problemResponses(422) },
    },
  }, async () => app.swagger())
}

const HEADERS = {
  'X-Request-Id': { description: 'The id of this request, as in the server log (the caller\'s own X-Request-Id when it sent a plain one).', schema: { type: 'string' } },
  'X-RateLimit-Limit': { description: 'Requests a minute this client may make (these three only when RATE_LIMIT_PER_MINUTE is set).', schema: { type: 'integer' } },
  'X-RateLimit-Remaining': { description: 'Requests left in the current minute.', schema: { type: 'integer' } },
  'X-RateLimit-Reset': { description: 'Seconds until the minute starts again.', schema: { type: 'integer' } },
  'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
}

/**
 * What the route schemas cannot say by themselves: every schema named with `component`
 * listed once under `components.schemas` and referred to by `$ref` (@fastify/swagger
 * only lifts schemas shared through `addSchema`, which routes would then have to name by
 * reference, losing their TypeBox types), and the headers the responses carry.
 */
function finishDocument(doc: Json): Json {
  const components = ((doc.components ??= {}) as Json)
  const schemas = ((components.schemas ??= {}) as Json)
  const hoist = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(hoist)
    if (node === null || typeof node !== 'object') return node
    const { [COMPONENT_KEY]: name, ...rest } = node as Json
    const body = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, hoist(v)]))
    if (typeof name !== 'string') return body
    schemas[name] ??= body
    return { $ref: `#/components/schemas/${name}` }
  }
  doc.paths = hoist(doc.paths)
  for (const [path, item] of Object.entries(doc.paths as Record<string, Json>)) {
    for (const operation of Object.values(item) as { responses?: Record<string, { headers?: Json }> }[]) {
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const headers: Json = { 'X-Request-Id': HEADERS['X-Request-Id'] }
        if (path.startsWith('/api/')) {
          Object.assign(headers, { 'X-RateLimit-Limit': HEADERS['X-RateLimit-Limit'], 'X-RateLimit-Remaining': HEADERS['X-RateLimit-Remaining'], 'X-RateLimit-Reset': HEADERS['X-RateLimit-Reset'] })
        }
        if (status === '429') headers['Retry-After'] = HEADERS['Retry-After']
        response.headers = { ...headers, ...response.headers }
      }
    }
  }
  return doc
}

export default fp(docs, { name: 'docs', dependencies: ['store', 'methods', 'validation'] })
