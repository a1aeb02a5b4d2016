import type { Queryable } from './db.ts'

/** What the ingest log remembers of one source object. */
export interface IngestRecord {
  /** The dataset the object belongs to (`statuses`, `fills`): keys are unique within one. */
  dataset: string
  key: string
  etag: string | null
  lastModified: string | null
  sizeBytes: number | null
  rowsIngested: number
  rowsDuplicate: number
  rowsRejected: number
  errorText: string | null
  durationMs: number | null
}

const UPSERT = `
  INSERT INTO etl_s3_ingest_log AS log
    (s3_object_key, etag, last_modified, size_bytes, rows_ingested, rows_duplicate, rows_rejected, error_text, duration_ms, ingested_at, dataset)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now(), $10)
  ON CONFLICT (dataset, s3_object_key) DO UPDATE SET
    etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, size_bytes = EXCLUDED.size_bytes,
    rows_ingested = EXCLUDED.rows_ingested, rows_duplicate = EXCLUDED.rows_duplicate,
    rows_rejected = EXCLUDED.rows_rejected, error_text = EXCLUDED.error_text,
    duration_ms = EXCLUDED.duration_ms, ingested_at = EXCLUDED.ingested_at`

/**
 * Writes the log entry of one object. Called inside the object's load transaction on
 * success, so rows and entry commit together, and on its own after a failure, so the
 * error is kept and the object retried on the next run.
 */
export async function recordIngest(db: Queryable, r: IngestRecord): Promise<void> {
  await db.query(UPSERT, [r.key, r.etag, r.lastModified, r.sizeBytes, r.rowsIngested, r.rowsDuplicate, r.rowsRejected, r.errorText, r.durationMs, r.dataset])
}

export interface LoggedObject {
  etag: string | null
  lastModified: string | null
  failed: boolean
  rowsIngested: number
}

/** Every logged object of `dataset` by key: what the planner compares the listing against. */
export async function readIngestLog(db: Queryable, dataset: string): Promise<Map<string, LoggedObject>> {
  const { rows } = await db.query<{ s3_object_key: string; etag: string | null; last_modified: string | null; error_text: string | null; rows_ingested: number }>(
    `SELECT s3_object_key, etag, to_char(last_modified AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_modified,
            error_text, rows_ingested
       FROM etl_s3_ingest_log WHERE dataset = $1`, [dataset])
  return new Map(rows.map((r) => [r.s3_object_key, {
    etag: r.etag, lastModified: r.last_modified, failed: r.error_text !== null, rowsIngested: r.rows_ingested,
  }]))
}

export interface LastIngest {
  key: string
  ingestedAt: string
  ageSeconds: number
}

/** The newest object of each of `datasets` ingested without error (null before its first). */
export async function lastSuccessfulIngests(db: Queryable, datasets: readonly string[]): Promise<Map<string, LastIngest | null>> {
  const { rows } = await db.query<{ dataset: string; s3_object_key: string | null; ingested_at: string | null; age_seconds: number | null }>(
    `SELECT d.dataset, l.s3_object_key, l.ingested_at, extract(epoch FROM now() - l.ingested_at)::float8 AS age_seconds
       FROM unnest($1::text[]) AS d(dataset)
       LEFT JOIN LATERAL (
         SELECT s3_object_key, ingested_at FROM etl_s3_ingest_log
          WHERE dataset = d.dataset AND error_text IS NULL ORDER BY ingested_at DESC LIMIT 1) l ON true`, [datasets])
  return new Map(rows.map((r) => [r.dataset, r.s3_object_key === null || r.ingested_at === null || r.age_seconds === null
    ? null
    : { key: r.s3_object_key, ingestedAt: r.ingested_at, ageSeconds: r.age_seconds }]))
}

/** The bundled sample's file, as `hl-twap start` loads it into an empty embedded store. */
export const SAMPLE_FILE_NAME = 'samples/twap-sample.parquet'
/** The bundled sample's fills, which belong to its TWAPs. */
export const SAMPLE_FILLS_FILE_NAME = 'samples/node-fills-sample.lz4'

/**
 * True for the ingest-log key of a bundled sample file: `local:<hash>/twap-sample.parquet`
 * or `local:<hash>/node-fills-sample.lz4` as the sample is loaded now (a file given by
 * itself is keyed by its name), or, as older versions keyed it, a local path ending in
 * `samples/twap-sample.parquet` or `samples/node-fills-sample.lz4`.
 */
export function isSampleKey(key: string): boolean {
  if (!key.startsWith('local:')) return false
  const named = /^local:[0-9a-f]{8}\/(.*)$/.exec(key)?.[1]
  return [SAMPLE_FILE_NAME, SAMPLE_FILLS_FILE_NAME].some((name) =>
    named === name.slice(name.lastIndexOf('/') + 1) || key === `local:${name}` || key.endsWith(`/${name}`))
}

/** The sample keys in the ingest log, of every dataset. */
export async function loggedSampleKeys(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ s3_object_key: string }>(`SELECT s3_object_key FROM etl_s3_ingest_log WHERE s3_object_key LIKE 'local:%'`)
  return rows.map((r) => r.s3_object_key).filter(isSampleKey)
}

/**
 * Removes the bundled sample's events, fills and log entries (`keys`, sample keys of the log).
 * Called inside the transaction of the first real object a run ingests, so the fake
 * events (whose TWAP ids could collide with real ones) go exactly when real data arrives,
 * and stay if that object fails. Returns the events removed.
 */
export async function removeSample(tx: Queryable, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0
  // As for a rewritten object: the sample's memberships go, and with them the events no
  // other object holds. (Every statement of the WITH sees the memberships as they were.)
  const { rows } = await tx.query<{ n: string }>(`
    WITH dropped AS (
      DELETE FROM twap_status_object WHERE s3_object_key = ANY($1::text[]) RETURNING status_id),
    gone AS (
      DELETE FROM twap_status s USING dropped d
       WHERE s.id = d.status_id
         AND NOT EXISTS (SELECT 1 FROM twap_status_object o WHERE o.status_id = s.id AND o.s3_object_key <> ALL($1::text[]))
      RETURNING 1)
    SELECT count(*)::text AS n FROM gone`, [keys])
  await tx.query('DELETE FROM twap_fill WHERE s3_object_key = ANY($1::text[])', [keys])
  await tx.query('DELETE FROM etl_s3_ingest_log WHERE s3_object_key = ANY($1::text[])', [keys])
  // The verdicts on the sample's TWAPs go with them; real TWAPs are judged again as they load.
  await tx.query('DELETE FROM twap_reconciliation r WHERE NOT EXISTS (SELECT 1 FROM twap_status s WHERE s.twap_id = r.twap_id)')
  return Number(rows[0]?.n ?? 0)
}
