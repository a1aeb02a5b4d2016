import { fileURLToPath } from 'node:url'
import autoload from '@fastify/autoload'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Registry } from 'prom-client'
import { clientErrorHandler, frameworkErrors } from './plugins/app/errors.ts'
import { genReqId } from './plugins/app/request-id.ts'
import type { AppPluginOptions } from './plugins/app/store.ts'
import { validatorOptions } from './plugins/app/validation.ts'

/** What the app is built from: the store and settings its plugins get, and how it logs. */
export type AppOptions = Omit<AppPluginOptions, 'registry'> & {
  /** A pino logger to log through, or true / false for Fastify's own. Default: no logs. */
  logger?: FastifyBaseLogger | boolean
  /** Where metrics go and `/metrics` reads; pass the process's registry to share it. Default: a registry of its own. */
  registry?: Registry
}

const PLUGINS = fileURLToPath(new URL('./plugins/', import.meta.url))
const ROUTES = fileURLToPath(new URL('./routes/', import.meta.url))

/**
 * The HTTP API, ready to `listen` or `inject`. It only wires: cross-cutting behaviour comes
 * from `plugins/` (third-party plugins configured in `external/`, ours in `app/`), resources
 * from `routes/`, whose folders mirror the URL tree (`_twap_id` is the `:twap_id` parameter).
 * `close()` waits for the responses in flight, streamed exports included; closing the
 * database stays with the caller.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db, primaryDb, config } = options
  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger } : { logger: options.logger ?? false }
  // Fastify takes a hop count too (its proxy-addr reads it), though its types leave it out.
  const trustProxy = config.api.trustProxy as boolean | string[]
  const app = Fastify({ ...logging, logController: new OneLineRequestLog(), genReqId, ajv: validatorOptions, frameworkErrors, clientErrorHandler, trustProxy }) as FastifyInstance

  const pluginOptions: AppPluginOptions = { db, primaryDb, config, registry: options.registry ?? new Registry() }
  // Each plugin names those it must come after (fastify-plugin's `dependencies`: whose hooks
  // must see its routes, or run before its own); autoload registers them in that order,
  // across both folders, all before the routes.
  await app.register(autoload, { dir: PLUGINS, dirNameRoutePrefix: false, options: pluginOptions })
  await app.register(autoload, { dir: ROUTES, routeParams: true })
  return app
}

/**
 * One log entry a request, when it completes: method, URL, status and time, in the
 * message too, so a terminal shows one readable line. Fastify's default writes two
 * entries a request with the whole request and response objects, fourteen lines pretty.
 */
class OneLineRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const ms = Math.round(reply.elapsedTime * 10) / 10
    const url = redactUrl(request.url)
    const fields = { method: request.method, url, statusCode: reply.statusCode, ms }
    const msg = `${request.method} ${url} ${reply.statusCode} ${ms} ms`
    if (error) reply.log.error({ ...fields, err: error }, msg)
    else reply.log.info(fields, msg)
  }
}

/** Query parameters whose value is a credential when a client sends one there by mistake. */
const SECRET_PARAMETER = /(key|token|secret|password|auth)/i

/**
 * The URL as logged: the value of any query parameter named like a credential (`api_key`,
 * `x-api-key`, `token`…) replaced by `***`. Such a request is refused (the routes take no
 * such parameter), but the log line would otherwise keep the key.
 */
export function redactUrl(url: string): string {
  const at = url.indexOf('?')
  if (at < 0) return url
  const query = url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=')
    const name = eq < 0 ? pair : pair.slice(0, eq)
    let decoded = name
    try {
      decoded = decodeURIComponent(name)
    } catch { /* a name that does not decode is checked as written */ }
    return eq >= 0 && SECRET_PARAMETER.test(decoded) ? `${name}=***` : pair
  })
  return `${url.slice(0, at)}?${query.join('&')}`
}
