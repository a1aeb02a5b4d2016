import { negotiate } from '@fastify/accept-negotiator'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { sendExplorer } from './web.ts'

const Index = Type.Object({
  name: Type.String(),
  links: Type.Record(Type.String(), Type.String()),
})

/**
 * The explorer's view, as a link carries it: the API's own parameter names, read by the
 * page, which checks them against the API and shows any problem next to its field.
 */
const ExplorerQuery = Type.Object({
  wallet: Type.Optional(Type.String({ maxLength: 100, description: 'The wallet the page looks up.' })),
  start: Type.Optional(Type.String({ maxLength: 64, description: 'Start of the range, as for /api/v1/twaps.' })),
  end: Type.Optional(Type.String({ maxLength: 64, description: 'End of the range, as for /api/v1/twaps.' })),
  asset: Type.Optional(Type.String({ maxLength: 64, description: 'Only this asset.' })),
  limit: Type.Optional(Type.String({ maxLength: 8, description: 'TWAPs per page the page loads.' })),
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
      operationId: 'getIndex',
      summary: 'The explorer page, or links to the API\'s resources',
      description: 'With `Accept: text/html` (a browser) the explorer page, which reads `wallet`, `start`, `end`, `asset` and `limit` from its URL as the API does; otherwise links to the resources as JSON.',
      tags: ['operations'],
      security: [],
      querystring: ExplorerQuery,
      response: {
        200: {
          description: 'The service description, or the explorer page.',
          content: {
            'application/json': { schema: Index },
            'text/html': { schema: { type: 'string', description: 'The explorer page.' } },
          },
        },
        ...problemResponses(422),
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
        twap_fills: '/api/v1/twaps/{twap_id}/fills',
        fills: '/api/v1/fills?wallet={wallet}&start={start}&end={end}',
        health: '/healthz',
        docs: '/docs',
        openapi: '/openapi.json',
        metrics: '/metrics',
      },
    })
  })
}

export default root
