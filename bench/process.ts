/**
 * Child processes the benchmark measures: a command run to completion with its wall time
 * and peak resident memory, and the API server kept running while it is loaded.
 */

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { cpuTicks, TICKS_PER_SECOND } from './backend-cpu.ts'

/** The CLI the benchmark drives, exactly as a user runs it. */
export const CLI = resolve('bin/hl-twap.js')

const GNU_TIME = '/usr/bin/time'

export interface Finished {
  code: number
  stdout: string
  stderr: string
  wallMs: number
  /** Peak resident set size in bytes (the kernel's max RSS of the process). */
  peakRss: number
  /** User + system CPU seconds of the process; null when GNU time is missing. */
  cpuSeconds: number | null
}

/**
 * Runs `command args` to its end and measures it. Peak RSS and CPU time come from GNU
 * time (`getrusage`, exact) when installed, else the peak from polling
 * `/proc/<pid>/status` VmHWM and no CPU time. Throws with the child's stderr when it
 * exits non-zero.
 */
export async function runMeasured(command: string, args: string[], options: { env: NodeJS.ProcessEnv; cwd: string }): Promise<Finished> {
  const scratch = await mkdtemp(join(tmpdir(), 'hltwap-time-'))
  const timeFile = join(scratch, 'time')
  const useTime = existsSync(GNU_TIME)
  const started = performance.now()
  const child = useTime
    ? spawn(GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args], { env: options.env, cwd: options.cwd })
    : spawn(command, args, { env: options.env, cwd: options.cwd })
  let polledPeak = 0
  const poll = useTime ? undefined : setInterval(() => { polledPeak = Math.max(polledPeak, procStatus(child.pid, 'VmHWM')) }, 50)
  try {
    const { code, stdout, stderr } = await collect(child)
    const wallMs = performance.now() - started
    if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${stderr.slice(-2000)}`)
    if (!useTime) return { code, stdout, stderr, wallMs, peakRss: polledPeak, cpuSeconds: null }
    // GNU time's last line; a line before it says so when the command was signalled.
    const [maxRssKb, user, system] = (await readFile(timeFile, 'utf8')).trim().split('\n').at(-1)!.split(' ').map(Number)
    return { code, stdout, stderr, wallMs, peakRss: maxRssKb! * 1024, cpuSeconds: user! + system! }
  } finally {
    if (poll) clearInterval(poll)
    await rm(scratch, { recursive: true, force: true })
  }
}

function collect(child: ChildProcess): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject)
    child.once('close', (code) => resolvePromise({ code: code ?? 1, stdout, stderr }))
  })
}

/** A field of `/proc/<pid>/status` in bytes (VmRSS, VmHWM), 0 when unreadable. */
function procStatus(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return 0
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : 0
  } catch {
    return 0
  }
}

/** A running `hl-twap serve`. */
export interface Server {
  url: string
  /** Resident memory now, bytes. */
  rss(): number
  /** Peak resident memory since start or the last `resetPeak`, bytes. */
  peakRss(): number
  /** Starts a new peak-RSS window; false when the kernel refuses (then the peak is since start). */
  resetPeak(): boolean
  /** User + system CPU seconds used so far; null when unreadable. */
  cpuSeconds(): number | null
  stop(): Promise<void>
}

/**
 * Starts `hl-twap serve` on a free loopback port and waits until `/healthz` answers.
 * `nodeFlags` go to node before the CLI (e.g. a heap cap).
 */
export async function startServer(env: NodeJS.ProcessEnv, cwd: string, nodeFlags: string[] = []): Promise<Server> {
  const port = await freePort()
  const child = spawn(process.execPath, [...nodeFlags, CLI, 'serve'], {
    env: { ...env, API_HOST: '127.0.0.1', API_PORT: String(port) },
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-4000) })
  const exited = new Promise<void>((resolvePromise) => child.once('exit', () => resolvePromise()))
  const url = `http://127.0.0.1:${port}`
  await waitUntilUp(url, child, () => stderr)
  return {
    url,
    rss: () => procStatus(child.pid, 'VmRSS'),
    peakRss: () => procStatus(child.pid, 'VmHWM'),
    resetPeak() {
      // Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS (Linux ≥ 4.0).
      try {
        writeFileSync(`/proc/${child.pid}/clear_refs`, '5')
        return true
      } catch {
        return false
      }
    },
    cpuSeconds: () => {
      const ticks = cpuTicks(child.pid)
      return ticks === null ? null : ticks / TICKS_PER_SECOND
    },
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

async function waitUntilUp(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`hl-twap serve exited with ${child.exitCode}:\n${stderr()}`)
    try {
      const response = await fetch(`${url}/healthz`)
      await response.arrayBuffer()
      return
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  child.kill('SIGKILL')
  throw new Error(`hl-twap serve did not answer on ${url} within 60 s:\n${stderr()}`)
}

/** A TCP port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0))
    })
  })
}
