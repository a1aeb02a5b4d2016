import { existsSync } from 'node:fs'
import { loadConfig, type Config } from '#src/config.ts'
import { cronError } from '#src/etl/cron.ts'
import { EXIT, ExitError } from './exit.ts'

/** The configuration of a command: the environment, over a `.env` file in the working directory. */
export function commandConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env')
  return loadConfig()
}

/**
 * PostgreSQL connections for a command: for the API ten, plus one per export slot (an
 * export on PostgreSQL holds a connection for its snapshot while it streams), and for an
 * ETL one per object in flight, one for the run's lock and a spare.
 */
export function poolSize(uses: { api: boolean; exportSlots?: number; etlConcurrency?: number }): number {
  const etl = uses.etlConcurrency === undefined ? 0 : uses.etlConcurrency + 2
  return Math.max(10, (uses.api ? 10 + (uses.exportSlots ?? 0) : 0) + etl)
}

/** Refuses a cron expression that croner cannot read, naming where it came from. */
export function checkCron(expression: string, origin: string): void {
  const error = cronError(expression)
  if (error) throw new ExitError(`${origin} ${JSON.stringify(expression)} is not a valid cron expression: ${error}`, EXIT.usage)
}
