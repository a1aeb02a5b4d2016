/**
 * The framework's limit: a bare Fastify route answering with a fixed body, loaded the same
 * way as the API, so the API's rate can be read against what Fastify alone serves here.
 */

import Fastify from 'fastify'
import type { AddressInfo } from 'node:net'

export interface BareServer {
  url: string
  close(): Promise<void>
}

/** A Fastify server on a free port whose one route, `GET /`, answers `body` as JSON text. */
export async function startBareServer(body: string): Promise<BareServer> {
  const app = Fastify({ logger: false })
  app.get('/', (_request, reply) => {
    reply.type('application/json; charset=utf-8').send(body)
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}/`, close: () => app.close() }
}
