import type { Config } from '#src/config.ts'
import { StoreError, type Db, type OpenOptions, type StoreConfig } from './db.ts'
import { migrate, pendingMigrations } from './migrate.ts'

/**
 * Opens the store the configuration names: PostgreSQL when `DATABASE_URL` is set, else
 * the embedded engine under `TWAP_DATA_DIR` (locked against a second process). It does not
 * migrate; `openStore` below is the usual start-up sequence. The engines are loaded only
 * when used, so PostgreSQL-only processes never load the embedded engine's WebAssembly.
 */
export async function openDb(config: StoreConfig, options: OpenOptions = {}): Promise<Db> {
  if (config.databaseUrl) {
    const { openPostgres } = await import('./postgres.ts')
    return openPostgres(config.databaseUrl, options.applicationName ?? 'hl-twap', options.poolSize, config.database)
  }
  const { openPglite } = await import('./pglite.ts')
  return openPglite(config.dataDir)
}

/**
 * Opens the configured store and brings its schema up to date: what every command does
 * first. If migrating fails the database is closed again before the error propagates.
 */
export async function openStore(config: StoreConfig, options: OpenOptions = {}): Promise<{ db: Db; applied: string[] }> {
  const db = await openDb(config, options)
  try {
    return { db, applied: await migrate(db) }
  } catch (err) {
    await db.close()
    throw err
  }
}

/** How long start-up waits for a replica to replay the migrations the primary just applied. */
const REPLICA_SCHEMA_WAIT_MS = 60_000

/**
 * Opens the read replica `DATABASE_READ_URL` names, for the API's reads, or returns
 * undefined when none is configured. It never migrates (a replica is read-only): it waits
 * until the replica has replayed every migration, so no query meets a schema older than
 * the code, and fails with one line when it does not within a minute (a replica far
 * behind, or a database that is no replica of `DATABASE_URL`).
 */
export async function openReadDb(config: StoreConfig & Pick<Config, 'databaseReadUrl'>, options: OpenOptions = {}): Promise<Db | undefined> {
  if (!config.databaseReadUrl) return undefined
  const { openPostgres } = await import('./postgres.ts')
  const db = await openPostgres(config.databaseReadUrl, options.applicationName ?? 'hl-twap', options.poolSize, config.database)
  try {
    const deadline = Date.now() + (options.schemaWaitMs ?? REPLICA_SCHEMA_WAIT_MS)
    for (;;) {
      const missing = await pendingMigrations(db)
      if (missing.length === 0) return db
      if (Date.now() >= deadline) {
        throw new StoreError(`the read replica (DATABASE_READ_URL, ${db.location}) lacks migrations ${missing.join(', ')}: ` +
          'is it a streaming replica of DATABASE_URL, and replaying?')
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
  } catch (err) {
    await db.close()
    throw err
  }
}
