import { Cron } from 'croner'

/**
 * Checks a cron expression (5 fields, or 6 with seconds) and returns what is wrong with it
 * in one line, or null when valid. An expression croner accepts but that never fires
 * (`0 0 31 2 *`) is refused too: a schedule that silently never runs is a mistake.
 */
export function cronError(cron: string): string | null {
  let job: Cron | undefined
  try {
    job = new Cron(cron, { timezone: 'UTC', paused: true })
    return job.nextRun() === null ? 'it never fires' : null
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '')
  } finally {
    job?.stop()
  }
}
