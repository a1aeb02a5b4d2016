import { execFileSync } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const BIN = '/usr/lib/postgresql/15/bin'

/**
 * Why a throwaway PostgreSQL cannot be started here, or undefined when it can: the server
 * binaries must be installed, and, since initdb refuses to run as root, a root test runs
 * them as the `postgres` user.
 */
export const pgClusterUnavailable: string | undefined = (() => {
  if (!existsSync(join(BIN, 'initdb'))) return `no PostgreSQL server binaries in ${BIN}`
  if (process.getuid?.() !== 0) return undefined
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' })
    return undefined
  } catch {
    return 'running as root without a postgres user to run initdb as'
  }
})()

/** A PostgreSQL server of a test's own, which it may stop, freeze and restart at will. */
export interface PgCluster {
  readonly port: number
  /** A connection string for `database` (default `postgres`) as the superuser `root`. */
  url(database?: string): string
  /** Stops the server (`pg_ctl stop -m fast`: sessions are terminated, 57P01). */
  stop(): void
  start(): void
  /** SIGSTOPs the postmaster and every backend: the server answers nothing, like a partition. */
  freeze(): void
  /** SIGCONTs what `freeze` stopped. */
  thaw(): void
  /** Stops the server (thawing it first) and deletes its data directory. */
  destroy(): void
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * initdb + pg_ctl on a free loopback port and a fresh data directory, with fsync off (a
 * test's data need not survive a crash of the machine). Never the machine's shared server.
 * It accepts streaming replication from loopback (initdb's default pg_hba allows it), so
 * `startStandby` can follow it.
 */
export async function startPgCluster(): Promise<PgCluster> {
  const { root, run } = scratch()
  const dataDir = join(root, 'data')
  run('initdb', ['-D', dataDir, '-U', 'root', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C'])
  return launch(root, dataDir, run, await freePort())
}

/**
 * A hot standby of `primary`: `pg_basebackup -R` (which writes the standby's
 * `primary_conninfo` and `standby.signal`) into a fresh directory, then started on a port
 * of its own. It streams the primary's WAL and answers read-only queries.
 */
export async function startStandby(primary: PgCluster): Promise<PgCluster> {
  const { root, run } = scratch()
  const dataDir = join(root, 'data')
  run('pg_basebackup', ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'root', '-D', dataDir, '-R', '-X', 'stream', '--no-sync'])
  return launch(root, dataDir, run, await freePort())
}

/** A fresh directory for a cluster, owned by the user the server runs as, and how to run its tools. */
function scratch(): { root: string; run: (tool: string, args: string[]) => void } {
  if (pgClusterUnavailable) throw new Error(pgClusterUnavailable)
  const root = mkdtempSync(join(tmpdir(), 'hltwap-pg-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString())
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString())
    chownSync(root, uid, gid)
  }
  const run = (tool: string, args: string[]) => {
    const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(BIN, tool), ...args]] : [join(BIN, tool), args]
    execFileSync(cmd, argv, { stdio: 'pipe', cwd: root })
  }
  return { root, run }
}

function launch(root: string, dataDir: string, run: (tool: string, args: string[]) => void, port: number): PgCluster {
  // wal_level and hot_standby are PostgreSQL 15's defaults, written out because replication needs them.
  const options = `-p ${port} -k ${root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c wal_level=replica -c hot_standby=on`
  const start = () => run('pg_ctl', ['-D', dataDir, '-o', options, '-l', join(root, 'server.log'), '-w', 'start'])
  const stop = () => run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop'])
  start()

  let frozen: number[] = []
  const postmaster = () => Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0])
  const children = (parent: number) => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the name in field 2 may hold spaces.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent
    } catch {
      return false
    }
  })
  const cluster: PgCluster = {
    port,
    url: (database = 'postgres') => `postgres://root@127.0.0.1:${port}/${database}`,
    stop,
    start,
    freeze() {
      const main = postmaster()
      frozen = [main, ...children(main)]
      for (const pid of frozen) process.kill(pid, 'SIGSTOP')
    },
    thaw() {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT')
        } catch {
          // already gone
        }
      }
      frozen = []
    },
    destroy() {
      cluster.thaw()
      try {
        stop()
      } catch {
        // not running
      }
      rmSync(root, { recursive: true, force: true })
    },
  }
  return cluster
}
