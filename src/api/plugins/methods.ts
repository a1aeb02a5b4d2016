import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Keeps track of the methods each route path answers and returns a lookup of those a
 * request's path has, so that another method gets 405 with `Allow` instead of Fastify's
 * 404, which would tell a client the resource does not exist. A second find-my-way (the
 * router Fastify itself uses) is fed from `onRoute`, so paths match exactly as Fastify
 * matches them, parameters and wildcards included; Fastify does not say which other
 * methods a request it could not route would have found. OPTIONS is left out: CORS
 * answers it on every path. Call it before any route is added.
 */
export function trackMethods(app: FastifyInstance): (request: FastifyRequest) => string[] {
  const router = FindMyWay()
  const methods = new Set<HTTPMethod>()
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      if (method === 'OPTIONS' || router.hasRoute(method, route.url)) continue
      router.on(method, route.url, () => {})
      methods.add(method)
    }
  })
  return (request) => {
    const path = request.url.split('?')[0]!
    return [...methods].filter((method) => router.find(method, path) !== null)
  }
}
