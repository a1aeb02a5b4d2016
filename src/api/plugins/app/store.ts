import type { FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import fp from 'fastify-plugin'
import type { Config } from '#src/config.ts'
import type { Db } from '#src/store/db.ts'
import { storedCursorSecret } from '#src/store/secret-queries.ts'

/** What every plugin and route of the app is given: the store it reads and the settings. */
export interface AppPluginOptions {
  /** The open store the routes read; the app never closes it. */
  db: Db
  /** When `db` is a read replica: the primary the ETL writes, whose state `/healthz` reports. */
  primaryDb?: Db
  config: Config
  /** Where metrics go and `/metrics` reads. */
  registry: Registry
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The store the routes read (a replica when one is configured). */
    db: Db
    /** The database the ETL writes, when `db` is a replica of it. */
    primaryDb: Db | undefined
    config: Config
    /** The key cursors are signed with. */
    cursorKey: () => Promise<string>
  }
}

/** The store and the settings as decorators of the app, for the routes and plugins to read. */
async function store(app: FastifyInstance, options: AppPluginOptions): Promise<void> {
  app.decorate('db', options.db)
  app.decorate('primaryDb', options.primaryDb)
  app.decorate('config', options.config)
  app.decorate('cursorKey', cursorKeyOf(options.db, options.config))
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

export default fp(store, { name: 'store' })
