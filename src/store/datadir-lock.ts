import { hostname } from 'node:os'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BusyError, StoreError } from './db.ts'

interface LockOwner {
  pid: number
  host: string
  command: string
  since: string
}

export const LOCK_FILE = 'hl-twap.lock'

/**
 * Takes the lock file of an embedded data directory and returns its release function.
 * PGlite is single-process: a second process writing the same files corrupts them, so a
 * second opener is refused with the pid and command of the holder. A lock left by a process
 * that no longer runs on this host is taken over. proper-lockfile and similar packages judge
 * staleness by file age, which cannot tell a long-running server from a dead one; a pid check
 * can, so this is ours.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE)
  const me: LockOwner = {
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me) + '\n', { flag: 'wx' })
      return () => releaseIfOurs(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StoreError(`cannot write the embedded database directory ${dir}: ${(err as Error).message}`)
      }
    }
    const owner = readOwner(path)
    if (owner && isAlive(owner)) {
      throw new BusyError(
        `the embedded database in ${dir} is in use by process ${owner.pid} on ${owner.host} (${owner.command}, since ${owner.since}); ` +
          'stop it first, or set DATABASE_URL to use PostgreSQL, which allows many processes',
      )
    }
    rmSync(path, { force: true })
  }
  throw new StoreError(`cannot take the lock ${path}: it keeps reappearing`)
}

function readOwner(path: string): LockOwner | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockOwner
  } catch {
    return undefined
  }
}

function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true
  if (owner.pid === process.pid) return true
  try {
    process.kill(owner.pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function releaseIfOurs(path: string): void {
  if (readOwner(path)?.pid === process.pid) rmSync(path, { force: true })
}
