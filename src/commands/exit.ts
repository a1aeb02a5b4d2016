import { CommanderError } from 'commander'
import { ConfigError } from '#src/config.ts'
import { EtlDatabaseLostError, EtlRefusedError } from '#src/etl/errors.ts'
import { EtlBusyError } from '#src/etl/lock.ts'
import { BusyError } from '#src/store/db.ts'
import { isDatabaseUnavailable } from '#src/store/unavailable.ts'

/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, busy: 75 } as const

/** A failure a command words itself, with the exit code it means. */
export class ExitError extends Error {
  override name = 'ExitError'
  readonly exitCode: number
  constructor(message: string, exitCode: number, options?: ErrorOptions) {
    super(message, options)
    this.exitCode = exitCode
  }
}

/**
 * Every expected failure as one line for stderr and its exit code, decided by the error's
 * class (or, for the database being unavailable, its codes); no stack traces.
 */
export function exitFor(err: unknown): { code: number; message?: string } {
  // Commander has already written its own message (usage, --help, --version).
  if (err instanceof CommanderError) return { code: err.exitCode === 0 ? EXIT.ok : EXIT.usage }
  if (err instanceof ExitError) return { code: err.exitCode, message: err.message }
  if (err instanceof EtlBusyError || err instanceof BusyError) return { code: EXIT.busy, message: err.message }
  if (err instanceof ConfigError || err instanceof EtlRefusedError) return { code: EXIT.usage, message: err.message }
  const message = err instanceof Error && err.message ? err.message : String(err)
  // A run that lost its database says so itself; any other command's query says it here.
  if (!(err instanceof EtlDatabaseLostError) && isDatabaseUnavailable(err)) return { code: EXIT.failed, message: `the database is unavailable: ${message}` }
  return { code: EXIT.failed, message }
}
