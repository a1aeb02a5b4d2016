import { Cron } from 'croner'

/** Checks a cron expression (5 fields, or 6 with seconds) and returns croner's complaint, or null when valid. */
export function cronError(cron: string): string | null {
  try {
    new Cron(cron, { timezone: 'UTC', paused: true }).stop()
    return null
  } catch (err) {
    return (err as Error).message
  }
}
