import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Logger } from 'pino'

/** Download directories this process is using now; any other of its pid is a dead namesake's. */
const activeDirs = new Set<string>()

/**
 * A fresh download directory in the system temp directory (TMPDIR), named after this
 * process. Downloads stay there rather than under TWAP_DATA_DIR because a deployment on
 * PostgreSQL may have no writable data directory at all (a read-only root with only /tmp
 * mounted). A run killed with SIGKILL cannot remove its directory, so each run first removes
 * those whose process is gone: its pid no longer runs, or is this process (a container
 * restarted with the same pid) and the directory is not one of its own.
 */
export async function createDownloadDir(logger: Logger): Promise<string> {
  const base = tmpdir()
  await removeStaleDownloadDirs(base, logger)
  try {
    const dir = await mkdtemp(join(base, `hl-twap-${process.pid}-`))
    activeDirs.add(dir)
    return dir
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const reason = e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied'
      : e.code === 'ENOENT' ? 'no such directory'
      : e.code === 'ENOTDIR' ? 'not a directory'
      : e.code === 'ENOSPC' ? 'no space left on device'
      : e.code === 'EROFS' ? 'read-only file system' : e.message
    throw new Error(`cannot create a download directory in ${base} (set TMPDIR to a writable directory): ${reason}`, { cause: err })
  }
}

/** Removes a directory `createDownloadDir` made, with what is left in it. */
export async function removeDownloadDir(dir: string): Promise<void> {
  activeDirs.delete(dir)
  await rm(dir, { recursive: true, force: true })
}

/** Directories of earlier versions, named without a pid, count as stale after a day. */
const UNNAMED_STALE_MS = 24 * 3600 * 1000

async function removeStaleDownloadDirs(base: string, logger: Logger): Promise<void> {
  const entries = await readdir(base, { withFileTypes: true }).catch(() => [])
  for (const entry of entries) {
    if (!entry.isDirectory() || !entry.name.startsWith('hl-twap-')) continue
    const path = join(base, entry.name)
    const owner = /^hl-twap-(\d+)-/.exec(entry.name)
    let stale: boolean
    if (owner) {
      const pid = Number(owner[1])
      stale = pid === process.pid ? !activeDirs.has(path) : !isRunning(pid)
    } else {
      const info = await stat(path).catch(() => undefined)
      stale = info !== undefined && Date.now() - info.mtimeMs > UNNAMED_STALE_MS
    }
    if (!stale) continue
    await rm(path, { recursive: true, force: true })
      .then(() => logger.info({ dir: path }, 'removed the download directory of a run that was killed'))
      .catch((err: Error) => logger.warn({ dir: path, error: err.message }, 'could not remove a stale download directory'))
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
