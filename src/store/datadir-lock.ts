import { hostname } from 'node:os'
import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BusyError, StoreError } from './db.ts'

/** What the lock file says about the process holding the directory. */
export interface LockOwner {
  pid: number
  host: string
  command: string
  since: string
  /** The process's start time in clock ticks since boot (`/proc/<pid>/stat` field 22); absent off Linux. */
  startTime?: string
  /** The kernel's boot id: pids and start times only compare within one boot. */
  bootId?: string
}

export const LOCK_FILE = 'hl-twap.lock'

/**
 * Takes the lock file of an embedded data directory and returns its release function.
 * PGlite is single-process: a second process writing the same files corrupts them, so a
 * second opener is refused with the pid, host and command of the holder.
 *
 * A lock is stale, and taken over, when it was written on this host by a process that no
 * longer runs. A pid alone cannot tell: in a container the server is pid 1 after every
 * restart (the hostname stays), and a dead process's pid is reused, so the lock also keeps
 * the holder's start time and the boot id, and the process must match both. A lock written
 * on another host (another container on a shared volume) cannot be checked from here, and
 * that container may well be running: it is refused, naming the host and how to clear it.
 * (Containers sharing one volume must therefore not share one hostname: each would judge
 * the other's pid 1 by its own.)
 * Not proper-lockfile: it keeps a live lock fresh by touching its mtime from a timer and
 * calls a lock stale once the mtime is older than `stale`, so a holder killed with SIGKILL
 * (a container restarting) blocks the next start until that age passes, and a holder whose
 * event loop is busy longer than that (PGlite runs each statement on the main thread) looks
 * dead while it writes. Its lock also records no holder, and the refusal here names one.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE)
  const me = currentOwner()
  const content = JSON.stringify(me) + '\n'
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(path, content, dir)) return () => releaseIfOurs(path, content)
    const text = readText(path)
    if (text === undefined) continue
    const owner = parseOwner(text)
    if (owner && isAlive(owner)) throw new BusyError(describeHolder(dir, path, owner))
    // Only the file judged stale is removed: if another process took it over meanwhile, its
    // new lock differs and is left alone (the next attempt then reads it).
    if (readText(path) === text) rmSync(path, { force: true })
  }
  throw new StoreError(`cannot take the lock ${path}: it keeps reappearing`)
}

/** This process as the lock file records it. */
function currentOwner(): LockOwner {
  return {
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
    startTime: processStartTime(process.pid),
    bootId: bootId(),
  }
}

/**
 * Creates the lock file with its whole content at once, or returns false when it exists:
 * written to a private file first and hard-linked into place (`link` fails when the name
 * exists), so no other process ever reads a half-written lock and judges it stale.
 */
function tryCreate(path: string, content: string, dir: string): boolean {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`
  try {
    writeFileSync(tmp, content, { flag: 'wx' })
    try {
      linkSync(tmp, path)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'EEXIST' || !NO_HARD_LINKS.has(code ?? '')) throw err
      // A file system without hard links (some network and desktop-VM mounts): create the
      // file exclusively instead, with a tiny window in which it is empty.
      writeFileSync(path, content, { flag: 'wx' })
    }
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new StoreError(`cannot write the embedded database directory ${dir}: ${(err as Error).message}`)
  } finally {
    rmSync(tmp, { force: true })
  }
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'])

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

function parseOwner(text: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(text) as LockOwner
    return Number.isSafeInteger(owner.pid) && typeof owner.host === 'string' ? owner : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether the lock's process may still run. On this host the answer is exact where Linux
 * tells start times: a lock from before the last boot is stale, and so is one whose pid now
 * belongs to a process started at another time (ours included: a restarted container's
 * pid 1). Elsewhere it falls back to "is there a process with that pid". A lock from
 * another host counts as held.
 */
function isAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true
  const ourBoot = bootId()
  if (owner.bootId && ourBoot && owner.bootId !== ourBoot) return false
  if (owner.pid === process.pid) {
    // Held by this very process (the directory opened twice) only if the start times
    // match; an older lock with our pid is a previous life of it.
    return owner.startTime === processStartTime(process.pid)
  }
  try {
    process.kill(owner.pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const started = processStartTime(owner.pid)
  return owner.startTime === undefined || started === undefined || started === owner.startTime
}

function describeHolder(dir: string, path: string, owner: LockOwner): string {
  const who = `process ${owner.pid} on ${owner.host} (${owner.command || 'unknown command'}, since ${owner.since})`
  if (owner.host !== hostname()) {
    return `the embedded database in ${dir} is in use by ${who}, another host or container, which cannot be checked from here (this is ${hostname()}); ` +
      `stop it first, or, if it no longer runs (a container that was killed or replaced), delete ${path}; ` +
      'set DATABASE_URL to use PostgreSQL, which allows many processes'
  }
  return `the embedded database in ${dir} is in use by ${who}; ` +
    'stop it first, or set DATABASE_URL to use PostgreSQL, which allows many processes'
}

function releaseIfOurs(path: string, content: string): void {
  if (readText(path) === content) rmSync(path, { force: true })
}

/**
 * The start time of process `pid` in clock ticks since boot, from `/proc/<pid>/stat`, or
 * undefined where there is no such file (not Linux, or no such process). Together with
 * the pid it names one process for the whole boot: pids are reused, start times are not.
 */
export function processStartTime(pid: number): string | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so count the fields
  // after its last `)`; starttime is field 22 overall, the 20th after comm.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const value = fields[19]
  return value && /^\d+$/.test(value) ? value : undefined
}

let cachedBootId: string | undefined | null = null

/** The kernel's boot id (`/proc/sys/kernel/random/boot_id`), undefined off Linux. */
export function bootId(): string | undefined {
  if (cachedBootId === null) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || undefined
    } catch {
      cachedBootId = undefined
    }
  }
  return cachedBootId
}
