import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/** Routes whose body depends on `Accept` (the explorer page or JSON, a page or an export). */
const NEGOTIATED = new Set(['/', '/api/v1/twaps', '/api/v1/fills'])

/** `Cache-Control` of the routes that hold no data of a wallet; those routes say their own. */
const CACHE_CONTROL: Record<string, string> = {
  '/healthz': 'no-store',
  '/metrics': 'no-store',
  '/openapi.json': 'no-cache',
  '/': 'no-cache',
}

/**
 * Headers every answer carries: `X-Content-Type-Options: nosniff` (a browser never runs a
 * CSV or a problem as a script), `Vary: Accept` where Accept chooses the body, so a cache
 * keeps one copy per format, `Cache-Control: no-store` on errors and on health and metrics,
 * which are only true of the moment, and `no-cache` on the documents that change with a
 * release.
 */
async function headers(app: FastifyInstance): Promise<void> {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff')
    const route = request.routeOptions.url
    if (route !== undefined && NEGOTIATED.has(route)) {
      const vary = String(reply.getHeader('vary') ?? '')
      if (!/(^|,)\s*accept\s*(,|$)/i.test(vary)) reply.header('vary', vary ? `${vary}, Accept` : 'Accept')
    }
    const cacheControl = reply.statusCode >= 400 ? 'no-store' : route !== undefined ? CACHE_CONTROL[route] : undefined
    if (cacheControl && !reply.hasHeader('cache-control')) reply.header('cache-control', cacheControl)
    return payload
  })
}

export default fp(headers, { name: 'headers' })
