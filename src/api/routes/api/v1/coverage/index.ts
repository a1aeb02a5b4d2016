import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { DatasetName } from '#src/config.ts'
import { readCoverage, type DatasetCoverage } from '#src/store/coverage.ts'
import { InvalidParameters } from '#src/api/plugins/app/errors.ts'
import { parseTimeRange, RANGE_RULE, rangeBounds } from '#src/api/range.ts'
import { Coverage, CoverageQuery } from '#src/api/schemas/coverage.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'

const DATASETS: readonly DatasetName[] = ['statuses', 'fills']

/** The store's coverage as the API shows it. */
export function toCoverageJson(c: DatasetCoverage) {
  return {
    first_hour: c.firstHour, last_hour: c.lastHour, covered_hours: c.coveredHours, missing_hours: c.missingHours,
    gaps: c.gaps, failed_objects: c.failed, newest_ingest: c.newestIngest, complete: c.complete,
  }
}

/**
 * `GET /api/v1/coverage`: per dataset, the hours the store covers, the gaps, the objects
 * waiting for a retry and whether the range (or all the store holds) is complete. Read from
 * the coverage table the ingest keeps, never from the events.
 */
const coverage: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app
  app.get('', {
    schema: {
      operationId: 'getCoverage',
      summary: 'Which hours of each dataset the store holds, and whether a range is complete',
      description: `Without \`start\` and \`end\`: over the span from each dataset's first to its last covered hour. With both: over every hour of the range, so hours before the first or after the last covered one count as missing, and a range with no data is \`complete: false\` (not an error). ${RANGE_RULE} Unknown parameters answer 422.`,
      tags: ['coverage'],
      querystring: CoverageQuery,
      response: {
        200: { description: 'Coverage per dataset.', content: { 'application/json': { schema: Coverage } } },
        ...problemResponses(401, 422, 429, 503),
      },
    },
  }, async (request) => {
    const { start, end } = request.query
    if ((start === undefined) !== (end === undefined)) {
      const missing = start === undefined ? 'start' : 'end'
      throw new InvalidParameters([{ parameter: missing, message: `is required with ${missing === 'start' ? 'end' : 'start'}` }])
    }
    let range: { startMs: number; endMs: number } | undefined
    let bounds: { start: string; end: string } | undefined
    if (start !== undefined && end !== undefined) {
      const parsed = parseTimeRange({ start, end })
      if (!parsed.range) throw new InvalidParameters(parsed.errors)
      range = { startMs: Number(parsed.range.start / 1000n), endMs: Number(parsed.range.end / 1000n) }
      bounds = rangeBounds(parsed.range)
    }
    const [statuses, fills] = await Promise.all(DATASETS.map((name) => readCoverage(db, name, range)))
    return {
      start: bounds?.start ?? null,
      end: bounds?.end ?? null,
      datasets: { statuses: toCoverageJson(statuses!), fills: toCoverageJson(fills!) },
    }
  })
}

export default coverage
