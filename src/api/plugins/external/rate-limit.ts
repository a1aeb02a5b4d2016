import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import fp from 'fastify-plugin'
import { isApiRoute } from '#src/api/plugins/app/api-keys.ts'
import { httpError } from '#src/api/plugins/app/errors.ts'

/**
 * Optional per-client rate limit on the `/api/` routes and `POST /info`: `RATE_LIMIT_PER_MINUTE` requests a
 * minute per client address (the TCP peer, or the client a trusted proxy names: see
 * `TRUST_PROXY`), beyond which a 429 problem with `Retry-After` answers. Off when 0.
 * Counts live in this process unless `RATE_LIMIT_REDIS_URL` names a Redis, where every
 * instance counts together; when that Redis does not answer, requests are let through
 * rather than refused.
 */
async function rateLimits(app: FastifyInstance): Promise<void> {
  const { config } = app
  const max = config.api.rateLimitPerMinute
  if (max <= 0) return
  const redis = config.api.rateLimitRedisUrl === undefined ? undefined : new Redis(config.api.rateLimitRedisUrl, { connectTimeout: 2000, maxRetriesPerRequest: 1, lazyConnect: true })
  if (redis) {
    // Errors surface as the store's failures (skipped, see above); the client must not crash the process.
    redis.on('error', (err: Error) => app.log.warn({ err }, 'rate limit store unavailable'))
    app.addHook('onClose', async () => {
      await redis.quit().catch(() => redis.disconnect())
    })
  }
  await app.register(rateLimit, {
    max,
    timeWindow: 60_000,
    ...(redis ? { redis, nameSpace: 'hltwap-rate-limit-', skipOnError: true } : {}),
    allowList: (request) => !isApiRoute(request.routeOptions.url),
    errorResponseBuilder: (_request, context) =>
      httpError(429, `Rate limit of ${context.max} requests a minute exceeded; retry in ${context.after}.`),
  })
}

export default fp(rateLimits, { name: 'rate-limit', dependencies: ['store'] })
