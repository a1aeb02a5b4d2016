import type { Queryable } from './db.ts'

const READ = 'SELECT epoch, version::text AS version FROM data_version'

/**
 * The data version: `<epoch>.<counter>`, moved on by every commit that changes the ingest
 * log (see migration 006), so two reads give the same text exactly when no ingest committed
 * between them.
 */
export async function readDataVersion(db: Queryable): Promise<string> {
  const { rows: [row] } = await db.query<{ epoch: string; version: string }>(READ, [])
  if (!row) throw new Error('the data_version row is missing')
  return `${row.epoch}.${row.version}`
}

/**
 * `readDataVersion` shared by concurrent callers without ever answering one of them with a
 * read that began before it called: a caller that arrives while a read is in flight waits
 * for the next one, which starts when that read ends and serves everyone who arrived
 * meanwhile. Under load this is one query per round trip instead of one per request, and
 * it stays exact across any number of API processes (nothing is kept between reads).
 */
export function sharedDataVersion(db: Queryable): () => Promise<string> {
  let current: Promise<string> | null = null
  let queued: Promise<string> | null = null
  const start = (): Promise<string> => {
    const read = readDataVersion(db)
    current = read
    const done = () => {
      if (current === read) current = null
    }
    read.then(done, done)
    return read
  }
  return () => {
    if (!current) return start()
    queued ??= current.then(() => {}, () => {}).then(() => {
      queued = null
      return start()
    })
    return queued
  }
}
