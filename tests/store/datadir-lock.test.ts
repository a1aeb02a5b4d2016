import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BusyError } from '#src/store/db.ts'
import { LOCK_FILE, bootId, lockDataDir, processStartTime, type LockOwner } from '#src/store/datadir-lock.ts'

const linux = existsSync('/proc/self/stat')

describe('the embedded data directory lock', () => {
  let dir: string
  let path: string
  let sleeper: ChildProcess | undefined

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hltwap-lock-'))
    path = join(dir, LOCK_FILE)
  })
  afterEach(() => {
    sleeper?.kill('SIGKILL')
    sleeper = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  /** A lock file as another process would have left it, this host and boot unless told otherwise. */
  function leaveLock(owner: Partial<LockOwner> & { pid: number }) {
    const lock: LockOwner = { host: hostname(), command: 'hl-twap serve', since: '2025-11-03T12:00:00.000Z', bootId: bootId(), ...owner }
    writeFileSync(path, JSON.stringify(lock) + '\n')
  }
  const owner = () => JSON.parse(readFileSync(path, 'utf8')) as LockOwner

  /** A process that runs until the test ends. */
  function liveProcess(): number {
    sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' })
    return sleeper.pid!
  }

  /** The pid of a process that has already exited. */
  function deadPid(): number {
    return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout)
  }

  it('records this process with its start time and boot, and removes the file on release', () => {
    const release = lockDataDir(dir)
    expect(owner()).toMatchObject({ pid: process.pid, host: hostname(), since: expect.any(String) })
    if (linux) expect(owner()).toMatchObject({ startTime: processStartTime(process.pid), bootId: bootId() })
    expect(readdirSync(dir)).toEqual([LOCK_FILE])
    release()
    expect(existsSync(path)).toBe(false)
  })

  it('refuses a second opener while held, even in the same process', () => {
    const release = lockDataDir(dir)
    expect(() => lockDataDir(dir)).toThrow(BusyError)
    expect(() => lockDataDir(dir)).toThrow(`in use by process ${process.pid} on ${hostname()}`)
    release()
    lockDataDir(dir)()
  })

  it('refuses a live process of this host, naming its pid and command', () => {
    const pid = liveProcess()
    leaveLock({ pid, startTime: processStartTime(pid), command: 'hl-twap serve --schedule "30 0 * * *"' })
    expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by process ${pid} on .*hl-twap serve --schedule`))
    expect(owner().pid).toBe(pid)
  })

  it('takes over a lock whose process has exited', () => {
    const pid = deadPid()
    leaveLock({ pid, startTime: '12345' })
    const release = lockDataDir(dir)
    expect(owner().pid).toBe(process.pid)
    release()
  })

  it.runIf(linux)('takes over a lock with our own pid from an earlier start: a restarted container\'s pid 1', () => {
    leaveLock({ pid: process.pid, startTime: String(Number(processStartTime(process.pid)) - 100) })
    const release = lockDataDir(dir)
    expect(owner()).toMatchObject({ pid: process.pid, startTime: processStartTime(process.pid) })
    release()
    // A lock written before start times were recorded, with our pid, is stale too.
    leaveLock({ pid: process.pid })
    lockDataDir(dir)()
  })

  it.runIf(linux)('takes over a lock whose pid now belongs to another, later process', () => {
    const pid = liveProcess()
    leaveLock({ pid, startTime: String(Number(processStartTime(pid)) - 1) })
    lockDataDir(dir)()
  })

  it.runIf(linux)('takes over a lock of this host written before the machine last booted', () => {
    const pid = liveProcess()
    leaveLock({ pid, startTime: processStartTime(pid), bootId: '00000000-0000-4000-8000-000000000000' })
    lockDataDir(dir)()
  })

  it('refuses a lock from another host (a container on a shared volume), saying how to clear it', () => {
    leaveLock({ pid: 1, host: 'b1946ac92492', startTime: '4242', bootId: 'another-boot' })
    let error: Error | undefined
    try {
      lockDataDir(dir)
    } catch (err) {
      error = err as Error
    }
    expect(error).toBeInstanceOf(BusyError)
    expect(error!.message).toContain(`in use by process 1 on b1946ac92492 (hl-twap serve, since 2025-11-03T12:00:00.000Z)`)
    expect(error!.message).toContain(`if it no longer runs (a container that was killed or replaced), delete ${path}`)
    expect(error!.message).not.toContain('\n')
    expect(owner().host).toBe('b1946ac92492')
  })

  it('takes over a lock file that is not a lock (unreadable JSON)', () => {
    writeFileSync(path, '{"pid": 12')
    lockDataDir(dir)()
  })

  it('leaves a lock that is no longer its own when released', () => {
    const release = lockDataDir(dir)
    const pid = liveProcess()
    leaveLock({ pid, startTime: processStartTime(pid) })
    release()
    expect(owner().pid).toBe(pid)
  })
})
