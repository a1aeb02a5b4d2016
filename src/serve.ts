import type { Logger } from 'pino'
import { buildApp } from './api/app.ts'
import type { Config } from './config.ts'
import { listenForEtl } from './etl/remote.ts'
import { scheduleEtl, type EtlSchedule } from './etl/schedule.ts'
import type { Metrics } from './metrics.ts'
import type { Db } from './store/db.ts'
import { openReadDb } from './store/open.ts'

export interface ServeOptions {
  db: Db
  config: Config
  logger: Logger
  metrics: Metrics
  /** Cron expression of the in-process incremental ETL; none when undefined. */
  schedule?: string
}

/**
 * Serves the API until SIGTERM or SIGINT, with the scheduled ETL when asked. On a signal
 * the server stops accepting connections, lets in-flight requests finish, stops the
 * schedule, waits for a run in progress and closes the database. Resolves once listening,
 * with a `close` that does the same shutdown. The database is the server's from the call
 * on: when it cannot listen (port in use), it is closed before the error propagates.
 */
export async function serve(options: ServeOptions): Promise<{ url: string; close: () => Promise<void>; schedule?: EtlSchedule }> {
  const { db, config, logger, metrics } = options
  // With DATABASE_READ_URL the routes read the replica; migrations (done by now) and the
  // scheduled ETL keep to the primary, and /healthz reports both.
  const readDb = await openReadDb(config).catch(async (err: unknown) => {
    await db.close().catch(() => {})
    throw err
  })
  const app = await buildApp({ db: readDb ?? db, primaryDb: readDb && db, config, logger, registry: metrics.registry })
  let url: string
  try {
    url = await app.listen({ host: config.api.host, port: config.api.port })
  } catch (err) {
    // Nothing serves, so close what was opened: the embedded database's lock goes with it.
    await app.close().catch(() => {})
    await readDb?.close().catch(() => {})
    await db.close().catch(() => {})
    const e = err as NodeJS.ErrnoException
    const reason = e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : e.message
    throw new Error(`cannot listen on ${config.api.host}:${config.api.port} (API_HOST, API_PORT): ${reason}`, { cause: err })
  }
  logger.info({ url, database: db.location, ...(readDb && { readDatabase: readDb.location }), docs: `${url}/docs` }, 'serving the API')
  let schedule: EtlSchedule | undefined
  if (options.schedule) {
    schedule = scheduleEtl(options.schedule, { db, config, logger, metrics }, logger)
    logger.info({ cron: options.schedule, nextRun: schedule.nextRun()?.toISOString() }, 'incremental ETL scheduled (UTC)')
  }
  // The embedded store is this process's alone: `hl-twap etl` in another terminal asks this
  // server to run the ingest (PostgreSQL needs no such thing: any process may run it).
  const remote = db.dataDir !== undefined
    ? await listenForEtl({ db, config, logger, metrics }, db.dataDir).catch((err: unknown) => {
      logger.warn({ error: (err as Error).message }, '`hl-twap etl` cannot ask this server to ingest: its socket cannot be created')
      return undefined
    })
    : undefined
  let closing: Promise<void> | undefined
  const close = () => (closing ??= (async () => {
    schedule?.stop()
    await remote?.close()
    await app.close()
    await schedule?.idle()
    await readDb?.close().catch(() => {})
    await db.close()
  })())
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.info({ signal }, 'shutting down')
      close().then(() => process.exit(0), (err) => {
        logger.error({ error: (err as Error).message }, 'shutdown failed')
        process.exit(1)
      })
    })
  }
  return { url, close, schedule }
}
