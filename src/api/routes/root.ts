import { negotiate } from '@fastify/accept-negotiator'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { sendExplorer } from './web.ts'

const Index = Type.Object({
  name: Type.String(),
  links: Type.Record(Type.String(), Type.String()),
})

// JSON first: a client that accepts anything (`*/*`, curl) keeps getting the description.
const MEDIA_TYPES = ['application/json', 'text/html']

/**
 * `GET /`: the explorer page for a browser (`Accept: text/html`), else where things are,
 * as JSON, for someone who found the port.
 */
const root: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/', {
    schema: {
      summary: 'The explorer page, or links to the API\'s resources',
      description: 'With `Accept: text/html` (a browser) the explorer page, which reads `wallet`, `start`, `end`, `asset` and `limit` from its URL as the API does; otherwise links to the resources as JSON.',
      tags: ['operations'],
      security: [],
      response: {
        200: {
          description: 'The service description, or the explorer page.',
          content: {
            'application/json': { schema: Index },
            'text/html': { schema: { type: 'string', description: 'The explorer page.' } },
          },
        },
      },
    },
  }, async (request, reply) => {
    reply.header('vary', 'Accept')
    const wanted = request.headers.accept ? negotiate(request.headers.accept, MEDIA_TYPES) : 'application/json'
    if (wanted === 'text/html') return sendExplorer(reply)
    return reply.type('application/json; charset=utf-8').send({
      name: 'hyperliquid-twap',
      links: {
        explorer: '/?wallet={wallet}&start={start}&end={end}',
        twaps: '/api/v1/twaps?wallet={wallet}&start={start}&end={end}',
        twap: '/api/v1/twaps/{twap_id}',
        health: '/healthz',
        docs: '/docs',
        openapi: '/openapi.json',
        metrics: '/metrics',
      },
    })
  })
}

export default root
