import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * CORS for browser clients: `CORS_ORIGINS` (`*` by default, else a list of origins). The
 * headers a client script needs to read are exposed: the request id, an export's filename,
 * and the rate limit's headers.
 */
async function corsOrigins(app: FastifyInstance): Promise<void> {
  await app.register(cors, {
    origin: app.config.api.corsOrigins,
    methods: ['GET', 'HEAD', 'OPTIONS'],
    exposedHeaders: ['x-request-id', 'content-disposition', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
  })
}

export default fp(corsOrigins, { name: 'cors', dependencies: ['store'] })
