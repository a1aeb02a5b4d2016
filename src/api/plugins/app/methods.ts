import FindMyWay, { type HTTPMethod } from 'find-my-way'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** The methods the path of `request` answers (none when no route has the path). */
    allowedMethods(request: FastifyRequest): string[]
  }
}

/**
 * Keeps track of the methods each route path answers and decorates the app with
 * `allowedMethods(request)`, those a request's path has, so that another method gets 405 with `Allow` instead of Fastify's
 * 404, which would tell a client the resource does not exist. A second find-my-way (the
 * router Fastify itself uses) is fed from `onRoute`, so paths match exactly as Fastify
 * matches them, parameters and wildcards included; Fastify does not say which other
 * methods a request it could not route would have found. OPTIONS is left out: CORS
 * answers it on every path. Every plugin that adds routes depends on this one.
 */
async function methods(app: FastifyInstance): Promise<void> {
  const router = FindMyWay()
  const known = new Set<HTTPMethod>()
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat() as HTTPMethod[]) {
      if (method === 'OPTIONS' || router.hasRoute(method, route.url)) continue
      router.on(method, route.url, () => {})
      known.add(method)
    }
  })
  app.decorate('allowedMethods', (request: FastifyRequest) => {
    const path = request.url.split('?')[0]!
    return [...known].filter((method) => router.find(method, path) !== null)
  })
}

export default fp(methods, { name: 'methods' })
