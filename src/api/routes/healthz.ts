import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { DATASET_NAMES, type DatasetName } from '#src/config.ts'
import { isoFromPg } from '#src/store/db.ts'
import { lastSuccessfulIngests, type LastIngest } from '#src/store/ingest-log.ts'
import { replicaLag, type ReplicaLag } from '#src/store/replica.ts'
import { Health } from '#src/api/schemas/health.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'

/** The health check's own deadline expired: the database did not answer in time. */
class HealthDeadline extends Error {
  override name = 'HealthDeadline'
}

/** Settles with `work`, or rejects with `HealthDeadline` after `ms`, whichever comes first. */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HealthDeadline(`no answer within ${ms} ms`)), ms)
  })
  // The query left behind ends by the store's own timeouts; its failure is of no interest.
  work.catch(() => {})
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer))
}

/** Why the database is unavailable, without its addresses or messages (the route is public). */
function reasonOf(err: unknown): string {
  if (err instanceof HealthDeadline) return err.message
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? `unreachable (${code})` : 'unreachable'
}

/** An ingest as /healthz shows it. */
function ingested(last: LastIngest | null): Health['last_ingested'] {
  return last && { s3_object_key: last.key, ingested_at: isoFromPg(last.ingestedAt), age_seconds: Math.max(0, Math.round(last.ageSeconds)) }
}

/**
 * `GET /healthz`: 200 while the database answers, `stale` when a dataset of `ETL_DATASETS`
 * has not ingested an object without error for `HEALTH_STALE_AFTER_HOURS` (so monitoring can
 * alert on a stopped pipeline without a load balancer pulling the API), 503 when the
 * database does not answer, or not within `HEALTH_TIMEOUT_MS` (a frozen server must not hang
 * the probe), with the reason. Each dataset is judged by its own newest ingest, so fresh
 * statuses do not hide stopped fills. A dataset before its first ingest is not stale (a
 * fresh install, a dataset just added), and one outside `ETL_DATASETS` is reported but never
 * makes the service stale: nothing is meant to keep it current.
 * When the API reads a replica (`primary` is the database the ETL writes), `db` is that
 * replica and `replica` adds its lag and whether the primary answers; a primary that is
 * down does not turn the answer 503, since every route still serves from the replica.
 */
const healthz: FastifyPluginAsyncTypebox = async (app) => {
  const { db, primaryDb: primary, config } = app
  const staleAfterHours = config.health.staleAfterHours
  /** With a replica: whether the primary answers, checked beside the replica's own queries. */
  const primaryState = async (): Promise<NonNullable<Health['replica']>['primary']> => {
    try {
      await within(primary!.query('SELECT 1'), config.health.timeoutMs)
      return { status: 'ok' }
    } catch (err) {
      return { status: 'unavailable', reason: reasonOf(err) }
    }
  }
  const replicaOf = (lag: ReplicaLag | undefined, primaryNow: NonNullable<Health['replica']>['primary']): Health['replica'] =>
    ({ standby: lag?.standby ?? false, lag_seconds: lag?.lagSeconds ?? null, lag_bytes: lag?.lagBytes ?? null, primary: primaryNow })
  app.get('/healthz', {
    schema: {
      operationId: 'getHealth',
      summary: 'Health of the API, its database and the ingest pipeline',
      tags: ['operations'],
      security: [],
      response: {
        200: { description: 'The database answers; status ok or stale.', content: { 'application/json': { schema: Health } } },
        422: problemResponses(422)[422]!,
        503: { description: 'The database is unreachable; status unavailable.', content: { 'application/json': { schema: Health } } },
      },
    },
  }, async (request, reply) => {
    const primaryNow = primary ? primaryState() : undefined
    let newest: Map<string, LastIngest | null>
    let lag: ReplicaLag | undefined
    try {
      ;[newest, lag] = await within(Promise.all([lastSuccessfulIngests(db, DATASET_NAMES), primary ? replicaLag(db) : undefined]), config.health.timeoutMs)
    } catch (err) {
      request.log.warn({ err }, 'health check: database unavailable')
      return reply.code(503).send({
        status: 'unavailable',
        database: { status: 'unavailable', engine: db.engine, reason: reasonOf(err) },
        last_ingested: null,
        stale_after_hours: staleAfterHours,
        ...(primaryNow && { replica: replicaOf(undefined, await primaryNow) }),
      } satisfies Health)
    }
    const datasetHealth = (name: DatasetName) => {
      const last = newest.get(name) ?? null
      return { configured: config.etl.datasets.includes(name), stale: last !== null && last.ageSeconds > staleAfterHours * 3600, last_ingested: ingested(last) }
    }
    const datasets = { statuses: datasetHealth('statuses'), fills: datasetHealth('fills') }
    const last = [...newest.values()].reduce<LastIngest | null>((a, b) => (b !== null && (a === null || b.ageSeconds < a.ageSeconds) ? b : a), null)
    const stale = Object.values(datasets).some((d) => d.configured && d.stale)
    return {
      status: stale ? 'stale' : 'ok',
      database: { status: 'ok', engine: db.engine },
      last_ingested: ingested(last),
      stale_after_hours: staleAfterHours,
      datasets,
      ...(primaryNow && { replica: replicaOf(lag, await primaryNow) }),
    } satisfies Health
  })
}

export default healthz
