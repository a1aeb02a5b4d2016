import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import { Registry } from 'prom-client'
import type { Config } from '../config.ts'
import type { Db } from '../store/db.ts'
import { configureApiKeys } from './plugins/api-keys.ts'
import { configureCors } from './plugins/cors.ts'
import { configureDocs } from './plugins/docs.ts'
import { configureErrors, frameworkErrors } from './plugins/errors.ts'
import { configureMetrics } from './plugins/metrics.ts'
import { configureRateLimit } from './plugins/rate-limit.ts'
import { configureRequestIds, genReqId } from './plugins/request-id.ts'
import { validatorOptions } from './plugins/validation.ts'
import twaps from './routes/api/v1/twaps/index.ts'
import twapById from './routes/api/v1/twaps/twap-id.ts'
import healthz from './routes/healthz.ts'
import root from './routes/root.ts'
import web from './routes/web.ts'

export interface AppOptions {
  /** The open store the routes read; the app never closes it. */
  db: Db
  config: Config
  /** A pino logger to log through, or true / false for Fastify's own. Default: no logs. */
  logger?: FastifyBaseLogger | boolean
  /** Where metrics go and `/metrics` reads; pass the process's registry to share it. */
  registry?: Registry
}

/**
 * The HTTP API of SPEC §4, ready to `listen` or `inject`. It only wires: cross-cutting
 * behaviour comes from `plugins/` (configured on the root instance, as they apply to every
 * route), resources from `routes/`, which mirror the URL tree. `close()` waits for the
 * responses in flight, streamed exports included; closing the database stays with the caller.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db, config } = options
  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger } : { logger: options.logger ?? false }
  const app = Fastify({ ...logging, genReqId, ajv: validatorOptions, frameworkErrors }) as FastifyInstance

  // Docs first: they collect every route added after them, /metrics included.
  await configureDocs(app, config)
  await configureErrors(app)
  await configureRequestIds(app)
  await configureCors(app, config)
  await configureApiKeys(app, config)
  await configureRateLimit(app, config)
  await configureMetrics(app, options.registry ?? new Registry())

  await app.register(root)
  await app.register(web)
  await app.register(healthz, { db, config })
  await app.register(twaps, { prefix: '/api/v1/twaps', db })
  await app.register(twapById, { prefix: '/api/v1/twaps', db })
  return app
}
