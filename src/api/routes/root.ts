import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '../schemas/problem.ts'

const Index = Type.Object({
  name: Type.String(),
  links: Type.Record(Type.String(), Type.String()),
})

/** `GET /`: where things are, for someone who found the port. */
const root: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    schema: {
      operationId: 'getIndex',
      summary: 'Links to the API\'s resources',
      tags: ['operations'],
      security: [],
      response: { 200: { description: 'Where the resources are.', content: { 'application/json': { schema: Index } } }, ...problemResponses(422) },
    },
  }, async () => ({
    name: 'hyperliquid-twap',
    links: {
      twaps: '/api/v1/twaps?wallet={wallet}&start={start}&end={end}',
      twap: '/api/v1/twaps/{twap_id}',
      health: '/healthz',
      docs: '/docs',
      openapi: '/openapi.json',
      metrics: '/metrics',
    },
  }))
}

export default root
