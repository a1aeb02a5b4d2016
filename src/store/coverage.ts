import { hoursOfKey } from '#src/source/key-hours.ts'
import { keyPath } from '#src/source/local.ts'
import { isoFromPg, type Queryable } from './db.ts'

/** Where each dataset keeps which objects hold which rows, and the time of a row. */
const SPAN_OF_ROWS: Readonly<Record<string, string>> = {
  statuses: `SELECT min(s.ts) AS first, max(s.ts) AS last
               FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id WHERE o.s3_object_key = $1`,
  fills: `SELECT min(f.time) AS first, max(f.time) AS last
            FROM twap_fill_object o JOIN twap_fill f ON f.id = o.fill_id WHERE o.s3_object_key = $1`,
}

const FORGET = 'DELETE FROM ingest_coverage WHERE dataset = $1 AND s3_object_key = $2'

const COVER = `
  INSERT INTO ingest_coverage (dataset, hour, s3_object_key)
  SELECT $1, h, $2 FROM generate_series(date_trunc('hour', $3::timestamptz), $4::timestamptz, interval '1 hour') AS h
  ON CONFLICT DO NOTHING`

/**
 * Records the hours object `key` of `dataset` holds, replacing what an earlier version of
 * it held. Called in the object's load transaction after its log entry (which the hours
 * reference), so rows, entry and hours commit together. The hours are those its key names;
 * a key that names none (a local file, a layout not known) covers the hours from its first
 * row's to its last row's, read through the object's memberships, and an empty object with
 * such a key covers nothing. Returns the hours recorded.
 */
export async function recordCoverage(tx: Queryable, dataset: string, key: string): Promise<number> {
  await tx.query(FORGET, [dataset, key])
  const fromKey = hoursOfKey(keyPath(key))
  let first: string, last: string
  if (fromKey) {
    first = new Date(fromKey.start).toISOString()
    last = new Date(fromKey.start + (fromKey.count - 1) * 3_600_000).toISOString()
  } else {
    const span = SPAN_OF_ROWS[dataset]
    if (!span) throw new Error(`no coverage rule for dataset ${dataset}`)
    const { rows: [row] } = await tx.query<{ first: string | null; last: string | null }>(span, [key])
    if (!row?.first || !row.last) return 0
    first = row.first
    last = row.last
  }
  return (await tx.query(COVER, [dataset, key, first, last])).rowCount
}

/** A run of consecutive hours with no ingested object: first and last hour (ISO), and how many. */
export interface Gap {
  start: string
  end: string
  hours: number
}

export interface FailedObject {
  key: string
  error: string
  at: string
}

/** What the store covers of one dataset, over a range of hours or over all it holds. */
export interface DatasetCoverage {
  firstHour: string | null
  lastHour: string | null
  coveredHours: number
  missingHours: number
  gaps: Gap[]
  failed: FailedObject[]
  newestIngest: { key: string; at: string } | null
  complete: boolean
}

const HOUR_MS = 3_600_000

// Consecutive covered hours form islands; each hole between two islands is one gap. The
// walk is over the distinct covered hours of the range only, never over the events.
const COVERED = `
  WITH h AS (
    SELECT DISTINCT hour FROM ingest_coverage
     WHERE dataset = $1 AND ($2::timestamptz IS NULL OR hour >= $2) AND ($3::timestamptz IS NULL OR hour <= $3)),
  w AS (SELECT hour, lag(hour) OVER (ORDER BY hour) AS prev FROM h)
  SELECT (SELECT count(*)::int FROM h) AS covered,
         (SELECT min(hour) FROM h) AS first, (SELECT max(hour) FROM h) AS last,
         COALESCE((SELECT json_agg(json_build_array(
                     extract(epoch FROM prev)::float8 * 1000, extract(epoch FROM hour)::float8 * 1000) ORDER BY hour)
                     FROM w WHERE hour - prev > interval '1 hour'), '[]') AS holes`

const FAILED = `
  SELECT s3_object_key AS key, error_text AS error, ingested_at AS at
    FROM etl_s3_ingest_log WHERE dataset = $1 AND error_text IS NOT NULL
   ORDER BY ingested_at, s3_object_key`

const NEWEST = `
  SELECT s3_object_key AS key, ingested_at AS at
    FROM etl_s3_ingest_log WHERE dataset = $1 AND error_text IS NULL
   ORDER BY ingested_at DESC, s3_object_key LIMIT 1`

const iso = (ms: number) => new Date(ms).toISOString()
const gap = (fromMs: number, toMs: number): Gap => ({ start: iso(fromMs), end: iso(toMs), hours: (toMs - fromMs) / HOUR_MS + 1 })

/**
 * The coverage of `dataset`: over the hours from `range.start`'s to `range.end`'s when a
 * range is given (hours before the first or after the last covered one count as missing
 * there), else over the span from its first to its last covered hour. Failed objects are
 * every one of the dataset waiting for a retry, whatever its hours, since an object that
 * could not be read may hold any. Complete means something covered, no hour missing, and
 * no object failing.
 */
export async function readCoverage(db: Queryable, dataset: string, range?: { startMs: number; endMs: number }): Promise<DatasetCoverage> {
  const fromMs = range ? Math.floor(range.startMs / HOUR_MS) * HOUR_MS : undefined
  const toMs = range ? Math.floor(range.endMs / HOUR_MS) * HOUR_MS : undefined
  const [covered, failed, newest] = await Promise.all([
    db.query<{ covered: number; first: string | null; last: string | null; holes: [number, number][] | string }>(
      COVERED, [dataset, fromMs === undefined ? null : iso(fromMs), toMs === undefined ? null : iso(toMs)]),
    db.query<{ key: string; error: string; at: string }>(FAILED, [dataset]),
    db.query<{ key: string; at: string }>(NEWEST, [dataset]),
  ])
  const row = covered.rows[0]!
  const holes = typeof row.holes === 'string' ? JSON.parse(row.holes) as [number, number][] : row.holes
  const firstMs = row.first === null ? null : Date.parse(isoFromPg(row.first))
  const lastMs = row.last === null ? null : Date.parse(isoFromPg(row.last))
  const gaps: Gap[] = []
  if (fromMs !== undefined && toMs !== undefined && (firstMs === null || lastMs === null)) gaps.push(gap(fromMs, toMs))
  else if (firstMs !== null && lastMs !== null) {
    if (fromMs !== undefined && fromMs < firstMs) gaps.push(gap(fromMs, firstMs - HOUR_MS))
    for (const [prev, next] of holes) gaps.push(gap(prev + HOUR_MS, next - HOUR_MS))
    if (toMs !== undefined && toMs > lastMs) gaps.push(gap(lastMs + HOUR_MS, toMs))
  }
  const missingHours = gaps.reduce((n, g) => n + g.hours, 0)
  const failures = failed.rows.map((r) => ({ key: r.key, error: r.error, at: isoFromPg(r.at) }))
  const last = newest.rows[0]
  return {
    firstHour: firstMs === null ? null : iso(firstMs),
    lastHour: lastMs === null ? null : iso(lastMs),
    coveredHours: row.covered,
    missingHours,
    gaps,
    failed: failures,
    newestIngest: last ? { key: last.key, at: isoFromPg(last.at) } : null,
    complete: row.covered > 0 && missingHours === 0 && failures.length === 0,
  }
}
