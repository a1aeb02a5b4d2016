import type { FastifyReply } from 'fastify'
import type { Db } from '../store/db.ts'
import { readCoverage } from '../store/coverage.ts'
import type { TimeRange } from './range.ts'
import type { RangeCoverage } from './schemas/coverage.ts'

/** Whether `range` is complete in each dataset: what pages and exports of it tell their readers. */
export async function rangeCoverage(db: Db, range: TimeRange): Promise<RangeCoverage> {
  const hours = { startMs: Number(range.start / 1000n), endMs: Number(range.end / 1000n) }
  const [statuses, fills] = await Promise.all([readCoverage(db, 'statuses', hours), readCoverage(db, 'fills', hours)])
  return {
    statuses: { complete: statuses.complete, missing_hours: statuses.missingHours },
    fills: { complete: fills.complete, missing_hours: fills.missingHours },
  }
}

/**
 * Marks an export of a range that is not complete in the dataset it lists: `_incomplete`
 * before the filename's extension, where a spreadsheet user sees it in the downloads folder,
 * and `X-Coverage-Complete` for scripts. Never a line inside the file: importers of tax
 * platforms take every line of a CSV as a row. Returns the filename to serve.
 */
export function markExport(reply: FastifyReply, complete: boolean, base: string, format: string): string {
  reply.header('x-coverage-complete', String(complete))
  return `${base}${complete ? '' : '_incomplete'}.${format}`
}
