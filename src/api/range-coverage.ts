import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Db } from '#src/store/db.ts'
import { readCoverage } from '#src/store/coverage.ts'
import { taggedVersion } from '#src/api/plugins/app/conditional.ts'
import type { TimeRange } from './range.ts'
import type { RangeCoverage } from './schemas/coverage.ts'

const HOUR_MS = 3_600_000
/** Ranges remembered per database at one data version; past it the oldest is dropped. */
const MEMO_SIZE = 1_000

interface Memo {
  version: string
  byHours: Map<string, Promise<RangeCoverage>>
}
const memos = new WeakMap<Db, Memo>()

/**
 * Whether `range` is complete in each dataset: what pages and exports of it tell their
 * readers, answering `request`. When the request is tagged with a data version (see
 * `taggedVersion`, read before its handler ran), the answer is remembered for the range's
 * hours until the version moves on: coverage changes only in the transactions that change
 * the ingest log, each of which moves it, and a read begun after the version was read is
 * at least as new as that version. A page then costs no coverage query while no ingest
 * commits; six reads otherwise.
 */
export function rangeCoverage(db: Db, range: TimeRange, request: FastifyRequest): Promise<RangeCoverage> {
  const hours = { startMs: Number(range.start / 1000n), endMs: Number(range.end / 1000n) }
  const version = taggedVersion(request)
  if (version === null) return readRangeCoverage(db, hours)
  let memo = memos.get(db)
  if (!memo || memo.version !== version) {
    memo = { version, byHours: new Map() }
    memos.set(db, memo)
  }
  const key = `${Math.floor(hours.startMs / HOUR_MS)}:${Math.floor(hours.endMs / HOUR_MS)}`
  const known = memo.byHours.get(key)
  if (known) return known
  const read = readRangeCoverage(db, hours)
  const { byHours } = memo
  if (byHours.size >= MEMO_SIZE) byHours.delete(byHours.keys().next().value!)
  byHours.set(key, read)
  read.catch(() => {
    if (byHours.get(key) === read) byHours.delete(key)
  })
  return read
}

async function readRangeCoverage(db: Db, hours: { startMs: number; endMs: number }): Promise<RangeCoverage> {
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
