import { openDb, type Db, type OpenOptions, type StoreConfig } from './db.ts'
import { migrate } from './migrate.ts'

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
