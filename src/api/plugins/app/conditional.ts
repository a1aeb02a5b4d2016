import { createHash } from 'node:crypto'
import { Cron } from 'croner'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '#src/config.ts'
import { packageInfo } from '#src/package.ts'
import { formatFromAccept } from '#src/api/media-types.ts'
import { negotiatedEncoding } from '#src/api/plugins/external/compress.ts'

const TAGGED = Symbol('conditional.tagged')
/** A request whose answer was tagged here, with the two header values set. */
type Tagged = FastifyRequest & { [TAGGED]?: { etag: string; cacheControl: string; version: string } }

/** The resources tagged: every GET (and HEAD) under `/api/v1/`, pages and exports alike. */
function isTaggedRoute(request: FastifyRequest): boolean {
  return (request.method === 'GET' || request.method === 'HEAD') && (request.routeOptions.url ?? '').startsWith('/api/v1/')
}

/**
 * A strong ETag for the answer to `request` at data version `version`: a digest of the
 * version, this package's version (an upgrade may change the bytes), the route, its
 * validated path and query parameters (sorted, so their order in the URL does not matter)
 * and the request headers the answer's bytes depend on: the format `Accept` chooses
 * when no `format` parameter does and the content coding `Accept-Encoding` obtains (see `negotiatedEncoding`). Two requests
 * get the same tag only when they would get the same bytes, so the tag is strong.
 */
export function etagOf(version: string, request: FastifyRequest): string {
  const sorted = (value: unknown) => {
    const entries = Object.entries((value ?? {}) as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return JSON.stringify(entries)
  }
  const query = (request.query ?? {}) as Record<string, unknown>
  const parts = [
    version,
    packageInfo.version,
    request.routeOptions.url ?? '',
    sorted(request.params),
    sorted(query),
    query.format === undefined ? formatFromAccept(request.headers.accept) : '',
    negotiatedEncoding(request.headers['accept-encoding']),
  ]
  return `"${createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32)}"`
}

/**
 * The data version the answer to `request` is tagged with, read before its handler ran;
 * null when the request is not tagged (not a data route, or the version could not be read).
 */
export function taggedVersion(request: FastifyRequest): string | null {
  return (request as Tagged)[TAGGED]?.version ?? null
}

/** Whether an `If-None-Match` header names `tag` (weak comparison, as RFC 9110 has it for this header), or is `*`. */
export function noneMatch(header: string | undefined, tag: string): boolean {
  if (!header) return false
  if (header.trim() === '*') return true
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === tag)
}

/**
 * How long a client or a CDN may keep an answer without asking again: until the next run
 * of `ETL_SCHEDULE` (UTC), the earliest moment an ingest can change it. After that, a
 * request with `If-None-Match` costs a read of the data version and answers 304 until the
 * ingest commits. An ingest started by hand shows once these ages run out. With API keys
 * the answer is `private`, so a shared cache never serves it to a client without a key.
 */
function cacheControl(config: Pick<Config, 'api' | 'etl'>): () => string {
  const scope = config.api.apiKeys.length > 0 ? 'private' : 'public'
  let job: Cron | null = null
  try {
    job = new Cron(config.etl.schedule, { timezone: 'UTC', paused: true })
  } catch {
    // An invalid schedule is refused where the ETL starts; here it only means no caching.
  }
  let nextMs = 0
  return () => {
    const now = Date.now()
    if (job && nextMs <= now) nextMs = job.nextRun(new Date(now))?.getTime() ?? 0
    const seconds = Math.max(0, Math.floor((nextMs - now) / 1000))
    return `${scope}, max-age=${seconds}`
  }
}

/**
 * Conditional requests on the data routes: every answer carries a strong `ETag` (see
 * `etagOf`) and a `Cache-Control` (see `cacheControl`); a request whose `If-None-Match`
 * names the current tag answers 304 after reading only the data version, never the rows.
 * Runs after validation (its tag uses the validated parameters) and after the API key and
 * rate limit checks. Error answers carry neither header.
 */
async function conditionalRequests(app: FastifyInstance): Promise<void> {
  const { db } = app
  const maxAge = cacheControl(app.config)
  app.addHook('preHandler', async (request: Tagged, reply) => {
    if (!isTaggedRoute(request)) return
    // Without the version there is no tag; the handler still answers, so a bad parameter
    // is a 422 and an unavailable database the handler's own 503.
    const version = await db.dataVersion().catch(() => null)
    if (version === null) return
    const tag = etagOf(version, request)
    const set = { etag: tag, cacheControl: maxAge(), version }
    request[TAGGED] = set
    reply.header('etag', set.etag).header('cache-control', set.cacheControl)
    if (noneMatch(request.headers['if-none-match'], tag)) return reply.code(304).send()
  })
  app.addHook('onSend', async (request: Tagged, reply, payload) => {
    const set = request[TAGGED]
    // Only the values set here: what another part of the app set stays.
    if (set && reply.statusCode !== 200 && reply.statusCode !== 304) {
      if (reply.getHeader('etag') === set.etag) reply.removeHeader('etag')
      if (reply.getHeader('cache-control') === set.cacheControl) reply.removeHeader('cache-control')
    }
    return payload
  })
}

export default fp(conditionalRequests, { name: 'conditional', dependencies: ['store'] })
