import type { Db, OpenOptions, StoreConfig } from './db.ts'
import { migrate } from './migrate.ts'

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
