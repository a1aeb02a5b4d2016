import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LogLine } from './log.ts'

/** `bin/hl-twap.js`, what `npm start` and the `hl-twap` command run. */
export const CLI = fileURLToPath(new URL('../../bin/hl-twap.js', import.meta.url))

export interface CliProcess {
  child: ChildProcess
  /** Every stderr line so far: pino's JSON lines parsed, other lines as `{ msg: line }`. */
  logs: LogLine[]
  stdout(): string
  stderr(): string
  /** Resolves with the first log line (already written or still to come) that `match` accepts. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  /** Resolves when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * A minimal environment for a CLI child: PATH and `home` as HOME (a fresh one, so no
 * `~/.aws` of the machine counts as configured credentials), nothing of the test runner's
 * own AWS or database variables, the instance metadata service off (it is not on loopback;
 * tests that want one set `AWS_EC2_METADATA_DISABLED` to undefined and point
 * `AWS_EC2_METADATA_SERVICE_ENDPOINT` at a local one), plus `env`.
 */
export function cliEnv(env: Record<string, string | undefined>, home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, TMPDIR: process.env.TMPDIR, AWS_EC2_METADATA_DISABLED: 'true', ...env }
}

/**
 * Starts `node bin/hl-twap.js <args>` and collects what it writes. The working directory
 * is a fresh empty one unless given, so no `.env` file is read.
 */
export function startCli(args: string[], options: { env: Record<string, string | undefined>; cwd?: string }): CliProcess {
  // A fresh HOME, and working directory unless given; both removed when the child ends.
  const scratch = mkdtempSync(join(tmpdir(), 'hltwap-cli-'))
  const home = join(scratch, 'home')
  const cwd = options.cwd ?? join(scratch, 'cwd')
  mkdirSync(home)
  mkdirSync(cwd, { recursive: true })
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cliEnv(options.env, home), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let partial = ''
  const logs: LogLine[] = []
  const waiters = new Set<{ match: (line: LogLine) => boolean; resolve: (line: LogLine) => void }>()
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => { out += chunk })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk
    const lines = (partial + chunk).split('\n')
    partial = lines.pop()!
    for (const text of lines) {
      if (!text.trim()) continue
      let line: LogLine
      try {
        line = JSON.parse(text) as LogLine
      } catch {
        line = { msg: text }
      }
      logs.push(line)
      for (const w of waiters) {
        if (w.match(line)) {
          waiters.delete(w)
          w.resolve(line)
        }
      }
    }
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    // 'close', not 'exit': by then everything the child wrote has been read.
    child.on('close', (code, signal) => {
      rmSync(scratch, { recursive: true, force: true })
      resolve({ code, signal })
    })
  })
  return {
    child,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(match, timeoutMs = 60_000) {
      const seen = logs.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = { match, resolve: (line: LogLine) => { clearTimeout(timer); resolve(line) } }
        const timer = setTimeout(() => {
          waiters.delete(waiter)
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr so far:\n${err}`))
        }, timeoutMs)
        waiters.add(waiter)
        void exited.then(({ code, signal }) => {
          if (!waiters.delete(waiter)) return
          clearTimeout(timer)
          reject(new Error(`the CLI exited (code ${code}, signal ${signal}) before a matching log line; stderr:\n${err}`))
        })
      })
    },
  }
}

/**
 * Runs the CLI to completion and returns its exit code and output. A command still running
 * after `timeoutMs` (a server that should have refused to start) is killed: code null.
 */
export async function runCli(args: string[], options: { env: Record<string, string | undefined>; cwd?: string; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const cli = startCli(args, options)
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const { code } = await cli.exited
  clearTimeout(timer)
  return { code, stdout: cli.stdout(), stderr: cli.stderr() }
}

/** Stops a CLI child with `signal` (SIGTERM by default) and returns how it exited; kills it after `graceMs`. */
export async function stopCli(cli: CliProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (cli.child.exitCode !== null || cli.child.signalCode !== null) return cli.exited
  cli.child.kill(signal)
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), graceMs)
  try {
    return await cli.exited
  } finally {
    clearTimeout(timer)
  }
}
