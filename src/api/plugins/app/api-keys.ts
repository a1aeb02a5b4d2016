import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '#src/config.ts'
import { httpError } from './errors.ts'

/** The header a client sends its key in. */
export const API_KEY_HEADER = 'x-api-key'

/** What a 401 tells the client about how to authenticate. */
export const API_KEY_CHALLENGE = 'ApiKey realm="hl-twap", header="X-API-Key"'

/** Clients whose failures are remembered at once, so that a flood of addresses cannot fill memory. */
const MAX_TRACKED_CLIENTS = 100_000

/**
 * True for the routes API keys and the rate limit guard: the data under `/api/` and
 * Hyperliquid's `POST /info`. Given the route's pattern, not the raw URL.
 */
export function isApiRoute(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && (routeUrl.startsWith('/api/') || routeUrl === '/info')
}

/**
 * Optional API keys: when `API_KEYS` lists any, every `/api/` route and `POST /info` answer
 * 401 (with `WWW-Authenticate`) unless the request carries one of them in `X-API-Key`.
 * Health, metrics and docs stay open for probes. The route's pattern decides, not the raw
 * URL, so an encoded path cannot slip by. Keys are compared as SHA-256 digests in constant
 * time. A client (by address, as `TRUST_PROXY` says it) that sent `AUTH_FAILURES_PER_MINUTE`
 * wrong or missing keys within a minute gets 429 for every request until that minute is
 * over, the right key included, so that guessing cannot go faster than the limit.
 */
async function apiKeys(app: FastifyInstance): Promise<void> {
  checkApiKeys(app, app.config)
  checkMetricsKey(app, app.config)
}

function checkApiKeys(app: FastifyInstance, config: Pick<Config, 'api'>): void {
  if (config.api.apiKeys.length === 0) return
  const digests = config.api.apiKeys.map(digest)
  const failures = new FailureWindow(config.api.authFailuresPerMinute, 60_000)
  app.addHook('onRequest', async (request) => {
    if (!isApiRoute(request.routeOptions.url)) return
    const blocked = failures.blockedFor(request.ip)
    if (blocked > 0) {
      const seconds = Math.ceil(blocked / 1000)
      throw httpError(429, `Too many requests without a valid API key from this client; retry in ${seconds} seconds.`, { 'retry-after': String(seconds) })
    }
    if (!hasKey(request, API_KEY_HEADER, digests)) {
      failures.add(request.ip)
      throw httpError(401, `An ${API_KEY_HEADER} header with a valid API key is required.`, { 'www-authenticate': API_KEY_CHALLENGE })
    }
  })
}

/**
 * Optional protection of `/metrics`: with `METRICS_API_KEY` set it answers only a request
 * with `Authorization: Bearer <key>` (what Prometheus sends with `authorization:
 * credentials`) or `X-API-Key: <key>`, else 401.
 */
function checkMetricsKey(app: FastifyInstance, config: Pick<Config, 'api'>): void {
  const key = config.api.metricsApiKey
  if (key === undefined) return
  const digests = [digest(key)]
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.url !== '/metrics') return
    const auth = request.headers.authorization
    const bearer = typeof auth === 'string' && /^bearer /i.test(auth) ? digest(auth.slice(7).trim()) : undefined
    if (bearer && digests.some((d) => timingSafeEqual(d, bearer))) return
    if (hasKey(request, API_KEY_HEADER, digests)) return
    throw httpError(401, '/metrics needs Authorization: Bearer with the metrics key (METRICS_API_KEY).', { 'www-authenticate': 'Bearer realm="hl-twap-metrics"' })
  })
}

function hasKey(request: FastifyRequest, header: string, digests: readonly Buffer[]): boolean {
  const given = request.headers[header]
  const givenDigest = typeof given === 'string' ? digest(given) : undefined
  return givenDigest !== undefined && digests.some((d) => timingSafeEqual(d, givenDigest))
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest()
}

/**
 * Failures per client in fixed windows. Kept here rather than in @fastify/rate-limit,
 * which counts every request it is asked about: it has no way to look at a client's count
 * without adding to it, and a client over its limit must be refused before its key is
 * checked, or a 429 for wrong keys and a 200 for the right one would still tell a guesser
 * which guess was right.
 */
class FailureWindow {
  private readonly clients = new Map<string, { count: number; until: number }>()
  private readonly max: number
  private readonly windowMs: number
  constructor(max: number, windowMs: number) {
    this.max = max
    this.windowMs = windowMs
  }

  /** Milliseconds `client` stays refused, 0 when it is not. */
  blockedFor(client: string): number {
    const entry = this.clients.get(client)
    if (!entry) return 0
    const left = entry.until - Date.now()
    if (left <= 0) {
      this.clients.delete(client)
      return 0
    }
    return entry.count >= this.max ? left : 0
  }

  add(client: string): void {
    const now = Date.now()
    const entry = this.clients.get(client)
    if (entry && entry.until > now) {
      entry.count++
      return
    }
    if (this.clients.size >= MAX_TRACKED_CLIENTS) {
      for (const [key, e] of this.clients) if (e.until <= now) this.clients.delete(key)
      if (this.clients.size >= MAX_TRACKED_CLIENTS) this.clients.delete(this.clients.keys().next().value!)
    }
    this.clients.set(client, { count: 1, until: now + this.windowMs })
  }
}

export default fp(apiKeys, { name: 'api-keys', dependencies: ['store'] })
