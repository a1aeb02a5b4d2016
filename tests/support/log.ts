import pino, { type Logger } from 'pino'

/** One log line as pino writes it (or `{ msg: line }` for a line that is not JSON). */
export interface LogLine {
  level?: number
  msg: string
  [field: string]: unknown
}

/** pino's numeric levels, to pick warnings and errors out of captured lines. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const

/** A pino logger that keeps every line it writes, parsed, in `lines`. */
export function memoryLogger(level = 'info'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = pino({ level }, { write: (line: string) => { lines.push(JSON.parse(line) as LogLine) } })
  return { logger, lines }
}

/** Resolves once `check` returns true, polling every 25 ms; rejects after `timeoutMs` with `what`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
