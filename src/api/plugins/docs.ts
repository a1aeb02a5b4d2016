import { packageInfo } from '../../package.ts'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.ts'
import { API_KEY_HEADER } from './api-keys.ts'


/**
 * The OpenAPI 3.1 document, built from the routes' own schemas, at `/openapi.json`, and
 * the interactive Swagger UI at `/docs`. Register it before the routes: it collects them
 * as they are added.
 */
export async function configureDocs(app: FastifyInstance, config: Pick<Config, 'api'>): Promise<void> {
  const withKeys = config.api.apiKeys.length > 0
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'hyperliquid-twap', version: packageInfo.version, description: packageInfo.description },
      tags: [
        { name: 'twaps', description: 'TWAP status events by wallet and time range' },
        { name: 'hyperliquid', description: 'Hyperliquid\'s own info requests, over the whole stored history' },
        { name: 'operations', description: 'Health, metrics and this document' },
      ],
      ...(withKeys && {
        components: { securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: API_KEY_HEADER } } },
        security: [{ apiKey: [] }],
      }),
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.get('/openapi.json', {
    schema: {
      summary: 'This OpenAPI document',
      tags: ['operations'],
      security: [],
      response: { 200: { description: 'OpenAPI 3.1 document.', type: 'object', additionalProperties: true } },
    },
  }, async () => app.swagger())
}
