import { Type, type Static } from 'typebox'
import { RangeParameters } from '#src/api/range.ts'
import { component } from './component.ts'

/**
 * The coverage resource: which hours of each dataset the store holds, the gaps between
 * them, the objects waiting for a retry, and whether a range is complete.
 */

const Hour = Type.String({ format: 'date-time', description: 'The first instant of a UTC hour, ISO-8601.', examples: ['2025-08-17T13:00:00.000Z'] })

export const CoverageQuery = Type.Object({
  start: Type.Optional(RangeParameters.start),
  end: Type.Optional(RangeParameters.end),
}, { additionalProperties: false })
export type CoverageQuery = Static<typeof CoverageQuery>

export const CoverageGap = component('CoverageGap', Type.Object({
  start: Hour,
  end: { ...Hour, description: 'The last missing hour of the run (included).' },
  hours: Type.Integer({ minimum: 1, description: 'Consecutive missing hours.' }),
}))

export const FailedObject = component('FailedObject', Type.Object({
  key: Type.String({ description: 'The object\'s key; a local file\'s is `local:<hash>/<path>`, its path below the directory given (or its name), after a hash of its absolute path.' }),
  error: Type.String({ description: 'Why its last ingest failed.' }),
  at: Type.String({ format: 'date-time', description: 'When it failed; the next run retries it.' }),
}))

export const DatasetCoverage = component('DatasetCoverage', Type.Object({
  first_hour: Type.Union([Hour, Type.Null()], { description: 'The first covered hour (inside the range when one is given); null when none.' }),
  last_hour: Type.Union([Hour, Type.Null()], { description: 'The last covered hour (inside the range when one is given); null when none.' }),
  covered_hours: Type.Integer({ minimum: 0 }),
  missing_hours: Type.Integer({ minimum: 0, description: 'Hours with no ingested object: inside the covered span, or inside the whole range when one is given.' }),
  gaps: Type.Array(CoverageGap, { description: 'Every run of missing hours, oldest first.' }),
  failed_objects: Type.Array(FailedObject, { description: 'Objects whose last ingest failed and that wait for a retry.' }),
  newest_ingest: Type.Union([
    Type.Object({ key: Type.String(), at: Type.String({ format: 'date-time' }) }),
    Type.Null(),
  ], { description: 'The object ingested without error most recently; null before the first.' }),
  complete: Type.Boolean({ description: 'True when some hour is covered, no hour is missing and no object is failing.' }),
}))

export const Coverage = component('Coverage', Type.Object({
  start: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'The range asked for; null for all the store holds.' }),
  end: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  datasets: Type.Object({ statuses: DatasetCoverage, fills: DatasetCoverage }),
}))
export type Coverage = Static<typeof Coverage>

const DatasetCompleteness = component('DatasetCompleteness', Type.Object({
  complete: Type.Boolean({ description: 'Every hour of the range is covered and no object of the dataset is failing.' }),
  missing_hours: Type.Integer({ minimum: 0, description: 'Hours of the range with no ingested object.' }),
}))

/** Whether the range an answer covers is complete in each dataset it draws on. */
export const RangeCoverage = component('RangeCoverage', Type.Object({
  statuses: DatasetCompleteness,
  fills: DatasetCompleteness,
}, { description: 'Whether every hour of the asked range is stored, per dataset (see GET /api/v1/coverage for the gaps).' }))
export type RangeCoverage = Static<typeof RangeCoverage>
