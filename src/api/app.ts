import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Registry } from 'prom-client'
import { DATASET_NAMES, type Config } from '#src/config.ts'
import { registerCompletenessGauges } from '#src/metrics.ts'
import { readCompleteness } from '#src/store/completeness.ts'
import type { Db } from '#src/store/db.ts'
import { storedCursorSecret } from '#src/store/secret-queries.ts'
import { configureApiKeys, configureMetricsKey } from './plugins/api-keys.ts'
import { configureCompression } from './plugins/compress.ts'
import { configureConditionalRequests } from './plugins/conditional.ts'
import { configureCors } from './plugins/cors.ts'
import { configureDocs } from './plugins/docs.ts'
import { clientErrorHandler, configureErrors, frameworkErrors } from './plugins/errors.ts'
import { configureExportSlots } from './plugins/export-slots.ts'
import { configureHeaders } from './plugins/headers.ts'
import { configureMetrics } from './plugins/metrics.ts'
import { configureRateLimit } from './plugins/rate-limit.ts'
import { configureRequestIds, genReqId } from './plugins/request-id.ts'
import { trackMethods } from './plugins/methods.ts'
import { configureStrictQueries, validatorOptions } from './plugins/validation.ts'
import twaps from './routes/api/v1/twaps/index.ts'
import twapById from './routes/api/v1/twaps/twap-id.ts'
import twapFills from './routes/api/v1/twaps/twap-fills.ts'
import fills from './routes/api/v1/fills/index.ts'
import walletSummary from './routes/api/v1/wallets/summary.ts'
import coverage from './routes/api/v1/coverage/index.ts'
import healthz from './routes/healthz.ts'
import info from './routes/info.ts'
import root from './routes/root.ts'
import web from './routes/web.ts'

export interface AppOptions {
  /** The open store the routes read; the app never closes it. */
  db: Db
  /** When `db` is a read replica: the primary the ETL writes, whose state `/healthz` reports. */
  primaryDb?: Db
  config: Config
  /** A pino logger to log through, or true / false for Fastify's own. Default: no logs. */
  logger?: FastifyBaseLogger | boolean
  /** Where metrics go and `/metrics` reads; pass the process's registry to share it. */
  registry?: Registry
}

/**
 * The HTTP API, ready to `listen` or `inject`. It only wires: cross-cutting
 * behaviour comes from `plugins/` (configured on the root instance, as they apply to every
 * route), resources from `routes/`, which mirror the URL tree. `close()` waits for the
 * responses in flight, streamed exports included; closing the database stays with the caller.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { db, config } = options
  const logging = typeof options.logger === 'object' ? { loggerInstance: options.logger } : { logger: options.logger ?? false }
  // Fastify takes a hop count too (its proxy-addr reads it), though its types leave it out.
  const trustProxy = config.api.trustProxy as boolean | string[]
  const app = Fastify({ ...logging, logController: new OneLineRequestLog(), genReqId, ajv: validatorOptions, frameworkErrors, clientErrorHandler, trustProxy }) as FastifyInstance

  // These first: they see every route added after them, /metrics and /docs included.
  const allowedMethods = trackMethods(app)
  await configureStrictQueries(app)
  await configureDocs(app, config)
  await configureErrors(app, allowedMethods)
  await configureRequestIds(app)
  await configureHeaders(app)
  await configureCors(app, config)
  await configureApiKeys(app, config)
  await configureMetricsKey(app, config)
  await configureRateLimit(app, config)
  const registry = options.registry ?? new Registry()
  await configureMetrics(app, registry)
  registerCompletenessGauges(registry, () => readCompleteness(db, DATASET_NAMES), {
    timeoutMs: config.health.timeoutMs,
    onError: (err) => app.log.warn({ err }, 'metrics: could not read the completeness counts'),
  })
  await configureCompression(app)
  await configureConditionalRequests(app, db, config)
  await configureExportSlots(app, config)

  await app.register(root)
  await app.register(web)
  await app.register(healthz, { db, primary: options.primaryDb, config })
  const cursorKey = cursorKeyOf(db, config)
  await app.register(twaps, { prefix: '/api/v1/twaps', db, cursorKey })
  await app.register(twapById, { prefix: '/api/v1/twaps', db })
  await app.register(info, { db })
  await app.register(twapFills, { prefix: '/api/v1/twaps', db })
  await app.register(fills, { prefix: '/api/v1/fills', db, cursorKey })
  await app.register(walletSummary, { prefix: '/api/v1/wallets', db })
  await app.register(coverage, { prefix: '/api/v1/coverage', db })
  return app
}

/**
 * The key cursors are signed with: `CURSOR_SECRET`, else the database's own, read on first
 * use (so that the app builds while the database is down) and kept once read.
 */
function cursorKeyOf(db: Db, config: Config): () => Promise<string> {
  const given = config.api.cursorSecret
  if (given !== undefined) return async () => given
  let read: Promise<string> | undefined
  return () => {
    read ??= storedCursorSecret(db).catch((err: unknown) => {
      read = undefined
      throw err
    })
    return read
  }
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
