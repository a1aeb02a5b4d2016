import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.ts'
import { isApiRoute } from './api-keys.ts'
import { httpError } from './errors.ts'

/**
 * Optional per-client rate limit on the `/api/` routes and `POST /info`: `RATE_LIMIT_PER_MINUTE` requests a
 * minute per client address, beyond which a 429 problem with `Retry-After` answers. Off
 * when 0. Counts live in this process; replicas each count their own.
 */
export async function configureRateLimit(app: FastifyInstance, config: Pick<Config, 'api'>): Promise<void> {
  const max = config.api.rateLimitPerMinute
  if (max <= 0) return
  await app.register(rateLimit, {
    max,
    timeWindow: 60_000,
    allowList: (request) => !isApiRoute(request.routeOptions.url),
    errorResponseBuilder: (_request, context) =>
      httpError(429, `Rate limit of ${context.max} requests a minute exceeded; retry in ${context.after}.`),
  })
}
