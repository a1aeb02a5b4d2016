import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { Db, Engine } from '#src/store/db.ts'
import { openPglite } from '#src/store/pglite.ts'
import { openPostgres } from '#src/store/postgres.ts'
import { listMigrations, migrate } from '#src/store/migrate.ts'

/**
 * The engine the suite runs on: PostgreSQL when `TEST_DATABASE_URL` is set (CI sets it to a
 * throwaway database's server), else the embedded engine. The suite never reads
 * `DATABASE_URL`, so running it cannot touch a configured production database.
 */
export const engine: Engine = process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite'

export interface TestStore {
  db: Db
  /** What `DATABASE_URL` / `TWAP_DATA_DIR` must say for a CLI child process to open the same store. */
  env: { DATABASE_URL?: string; TWAP_DATA_DIR: string }
  /** Closes the store without deleting it, so another process can open it. */
  close(): Promise<void>
  reopen(): Promise<Db>
  /** Closes and deletes it. */
  destroy(): Promise<void>
}

/**
 * A fresh, empty store on the suite's engine, unmigrated when `migrated` is false. On
 * PostgreSQL it is a new database on the `TEST_DATABASE_URL` server; on PGlite a new
 * temporary directory (copied from a migrated template made once, because creating a
 * PGlite cluster takes seconds).
 */
export async function createTestStore(options: { migrated?: boolean } = {}): Promise<TestStore> {
  const migrated = options.migrated ?? true
  const dataDir = mkdtempSync(join(tmpdir(), 'hltwap-test-'))
  if (engine === 'postgres') {
    const admin = new URL(process.env.TEST_DATABASE_URL!)
    const name = `hltwap_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`
    await adminQuery(admin, `CREATE DATABASE ${name}`)
    const url = new URL(admin)
    url.pathname = `/${name}`
    let db = await openPostgres(url.toString(), 'hl-twap-test')
    if (migrated) await migrate(db)
    return {
      get db() { return db },
      env: { DATABASE_URL: url.toString(), TWAP_DATA_DIR: dataDir },
      close: () => db.close(),
      async reopen() { db = await openPostgres(url.toString(), 'hl-twap-test'); return db },
      async destroy() {
        await db.close().catch(() => {})
        await adminQuery(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        rmSync(dataDir, { recursive: true, force: true })
      },
    }
  }
  if (migrated) cpSync(await pgliteTemplate(), join(dataDir, 'pgdata'), { recursive: true })
  let db = await openPglite(dataDir)
  return {
    get db() { return db },
    env: { TWAP_DATA_DIR: dataDir },
    close: () => db.close(),
    async reopen() { db = await openPglite(dataDir); return db },
    async destroy() {
      await db.close().catch(() => {})
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

async function adminQuery(url: URL, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

let template: Promise<string> | undefined

/**
 * A migrated PGlite cluster directory that each test copies. Creating one takes seconds,
 * so it is built once per machine for this schema and PGlite version (the name carries a
 * hash of both) and shared by every test worker and run: built aside, then renamed into
 * place, so a worker never sees half of one.
 */
function pgliteTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `hltwap-template-${templateKey()}`)
    if (!existsSync(join(dir, 'pgdata', 'PG_VERSION'))) {
      const building = `${dir}.building-${process.pid}`
      rmSync(building, { recursive: true, force: true })
      const db = await openPglite(building)
      await migrate(db)
      await db.close()
      try {
        renameSync(building, dir)
      } catch {
        rmSync(building, { recursive: true, force: true }) // another worker got there first
      }
    }
    return join(dir, 'pgdata')
  })()
  return template
}

function templateKey(): string {
  const hash = createHash('sha256')
  hash.update(readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)))
  for (const m of listMigrations()) hash.update(m.sql)
  return hash.digest('hex').slice(0, 16)
}
