import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../../config.ts'
import { httpError } from './errors.ts'

/** The header a client sends its key in. */
export const API_KEY_HEADER = 'x-api-key'

/**
 * True for the routes API keys and the rate limit guard: the data under `/api/` and
 * Hyperliquid's `POST /info`. Given the route's pattern, not the raw URL.
 */
export function isApiRoute(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && (routeUrl.startsWith('/api/') || routeUrl === '/info')
}

/**
 * Optional API keys: when `API_KEYS` lists any, every `/api/` route and `POST /info` answer 401 unless the
 * request carries one of them in `X-API-Key`. Health, metrics and docs stay open for
 * probes. The route's pattern decides, not the raw URL, so an encoded path cannot slip by.
 * Keys are compared as SHA-256 digests in constant time.
 */
export async function configureApiKeys(app: FastifyInstance, config: Pick<Config, 'api'>): Promise<void> {
  if (config.api.apiKeys.length === 0) return
  const digests = config.api.apiKeys.map(digest)
  app.addHook('onRequest', async (request) => {
    if (!isApiRoute(request.routeOptions.url)) return
    const given = request.headers[API_KEY_HEADER]
    const givenDigest = typeof given === 'string' ? digest(given) : undefined
    const ok = givenDigest !== undefined && digests.some((d) => timingSafeEqual(d, givenDigest))
    if (!ok) throw httpError(401, `An ${API_KEY_HEADER} header with a valid API key is required.`)
  })
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}
