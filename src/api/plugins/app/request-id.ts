import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

const SAFE_ID = /^[\w.:-]{1,128}$/

/**
 * The id of a request, in every log line about it and in its `x-request-id` response
 * header: the caller's own `x-request-id` when it is a plain token (so a proxy's id
 * follows the request through), else a new UUID.
 */
export function genReqId(req: IncomingMessage): string {
  const given = req.headers['x-request-id']
  return typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID()
}

/** Returns the request id to the client, so a failing request can be found in the log. */
async function requestIds(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })
}

export default fp(requestIds, { name: 'request-id' })
