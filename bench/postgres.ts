/**
 * Throwaway PostgreSQL databases for the benchmark: each measurement gets a fresh one,
 * migrated by the project's own migrations, and drops it afterwards.
 */

import pg from 'pg'
import { migrate } from '#src/store/migrate.ts'
import { openPostgres } from '#src/store/postgres.ts'

export interface ScratchDb {
  name: string
  url: string
  /** Runs one statement on this database. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>
  drop(): Promise<void>
}

/** Creates `hltwap_bench_<label>_<pid>` on the server of `adminUrl` and applies the migrations. */
export async function createScratchDb(adminUrl: string, label: string): Promise<ScratchDb> {
  const name = `hltwap_bench_${label}_${process.pid}`
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const db = await openPostgres(url.toString(), 'hl-twap-bench')
  try {
    await migrate(db)
  } finally {
    await db.close()
  }
  return {
    name,
    url: url.toString(),
    async query<R>(sql: string, params?: unknown[]) {
      const client = new pg.Client({ connectionString: url.toString() })
      await client.connect()
      try {
        return (await client.query(sql, params)).rows as R[]
      } finally {
        await client.end()
      }
    },
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  }
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}
