import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Db, Queryable } from './db.ts'

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url))

/** Session advisory lock key shared by every process migrating the same database. */
const MIGRATION_LOCK = 7_461_022_101

export interface Migration {
  version: number
  name: string
  sql: string
}

/** The numbered `migrations/NNN_name.sql` files, in order. */
export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d+_.+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file, 10),
      name: file.replace(/\.sql$/, ''),
      sql: readFileSync(`${dir}/${file}`, 'utf8'),
    }))
}

/**
 * Applies the migrations the database has not seen yet and returns their names. Each one
 * runs in its own transaction together with its `schema_migrations` row, so a failure
 * leaves no half-applied schema; an advisory lock makes concurrent start-ups take turns.
 * Applying twice is a no-op, and an up-to-date schema is only read, never written, so the
 * API can start against a read-only replica. Not postgrator, although it takes an injected
 * query function that PGlite could serve: it names files `NNN.do.name.sql`, keeps its own
 * `schemaversion` table, applies only versions above the highest recorded, and runs a
 * migration and its version row as two statements rather than one transaction. Moving to
 * it would rename every migration and re-record the history of every existing database.
 */
export async function migrate(db: Db, migrations = listMigrations()): Promise<string[]> {
  return db.withSession(async (session) => {
    if ((await pending(session, migrations)).length === 0) return []
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK])
    try {
      await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      )`)
      const done: string[] = []
      for (const m of await pending(session, migrations)) {
        await session.exec('BEGIN')
        try {
          await session.exec(m.sql)
          await session.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
          await session.exec('COMMIT')
        } catch (err) {
          await session.exec('ROLLBACK')
          throw new Error(`migration ${m.name} failed: ${(err as Error).message}`, { cause: err })
        }
        done.push(m.name)
      }
      return done
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK])
    }
  })
}

/**
 * The names of the migrations `db` has not recorded: what a read replica has yet to replay
 * before the API's queries match its schema. Only reads.
 */
export async function pendingMigrations(db: Queryable, migrations = listMigrations()): Promise<string[]> {
  return (await pending(db, migrations)).map((m) => m.name)
}

/** The migrations not recorded in `schema_migrations` (all of them when it does not exist). */
async function pending(session: Queryable, migrations: readonly Migration[]): Promise<Migration[]> {
  const { rows: [table] } = await session.query<{ exists: boolean }>(
    "SELECT to_regclass('schema_migrations') IS NOT NULL AS exists",
  )
  if (!table?.exists) return [...migrations]
  const { rows } = await session.query<{ version: number }>('SELECT version FROM schema_migrations')
  const applied = new Set(rows.map((r) => r.version))
  return migrations.filter((m) => !applied.has(m.version))
}
