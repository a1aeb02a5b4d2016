import { isIP } from 'node:net'
import { availableParallelism } from 'node:os'
import envSchema from 'env-schema'
import { Type, type Static } from 'typebox'

/**
 * The environment variables the README documents, with their
 * defaults. This schema is the single place a variable is named; everything else reads
 * the typed `Config` built from it.
 */
export const EnvSchema = Type.Object({
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_READ_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  TWAP_DATA_DIR: Type.String({ default: './data', minLength: 1 }),
  DATABASE_STATEMENT_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 3_600_000 }),
  DATABASE_CONNECT_TIMEOUT_MS: Type.Integer({ default: 5000, minimum: 100, maximum: 600_000 }),
  AWS_REGION: Type.String({ default: 'us-east-1', pattern: '^[a-z0-9-]+$' }),
  AWS_S3_BUCKET: Type.String({ default: 'artemis-hyperliquid-data', minLength: 3 }),
  AWS_S3_PREFIX: Type.String({ default: 'raw/twap_statuses/' }),
  AWS_REQUEST_PAYER: Type.String({ default: 'requester', minLength: 1 }),
  AWS_ENDPOINT_URL: Type.Optional(Type.String({ pattern: '^https?://[^\\s/]+' })),
  AWS_S3_FORCE_PATH_STYLE: Type.Boolean({ default: false }),
  FILLS_S3_BUCKET: Type.String({ default: 'hl-mainnet-node-data', minLength: 3 }),
  FILLS_S3_PREFIX: Type.String({ default: 'node_fills_by_block/hourly/' }),
  ETL_DATASETS: Type.String({ default: 'statuses' }),
  API_HOST: Type.String({ default: '0.0.0.0', minLength: 1 }),
  API_PORT: Type.Integer({ default: 8000, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.String({ default: 'info', pattern: '^(fatal|error|warn|info|debug|trace|silent)$' }),
  CORS_ORIGINS: Type.String({ default: '*' }),
  API_KEYS: Type.String({ default: '' }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ default: 0, minimum: 0 }),
  RATE_LIMIT_REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  AUTH_FAILURES_PER_MINUTE: Type.Integer({ default: 10, minimum: 1 }),
  TRUST_PROXY: Type.String({ default: 'false', minLength: 1 }),
  EXPORT_MAX_CONCURRENT: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  CURSOR_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_API_KEY: Type.Optional(Type.String({ minLength: 1 })),
  ETL_SCHEDULE: Type.String({ default: '30 0 * * *', minLength: 1 }),
  ETL_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 64 }),
  HEALTH_STALE_AFTER_HOURS: Type.Number({ default: 36, exclusiveMinimum: 0 }),
  HEALTH_TIMEOUT_MS: Type.Integer({ default: 2000, minimum: 100, maximum: 60_000 }),
})

type Env = Static<typeof EnvSchema>

/** The datasets the ETL ingests: TWAP status events and TWAP slice fills. */
export const DATASET_NAMES = ['statuses', 'fills'] as const
export type DatasetName = (typeof DATASET_NAMES)[number]

export interface Config {
  /** PostgreSQL connection string; undefined selects the embedded engine. */
  databaseUrl: string | undefined
  /**
   * A PostgreSQL streaming replica of `databaseUrl` the API reads from; migrations and the
   * ETL still go to `databaseUrl`. Undefined: the API reads `databaseUrl` too.
   */
  databaseReadUrl?: string
  dataDir: string
  /** PostgreSQL's limits, so a database that stops answering makes the API answer 503 in time. */
  database: { statementTimeoutMs: number; connectTimeoutMs: number }
  s3: {
    region: string
    bucket: string
    prefix: string
    requestPayer: string
    endpoint: string | undefined
    forcePathStyle: boolean
    /** Let the SDK follow a bucket's region redirect (the fills bucket's region is not fixed). */
    followRegionRedirects?: boolean
  }
  /** Where the fills dataset lives; region, payer, endpoint and credentials are the statuses' ones. */
  fills: { bucket: string; prefix: string }
  api: {
    host: string
    port: number
    corsOrigins: string[] | '*'
    apiKeys: string[]
    rateLimitPerMinute: number
    /** Redis holding the rate limit's counts, so that several instances enforce one limit; undefined counts in this process. */
    rateLimitRedisUrl: string | undefined
    /** Requests with a missing or wrong API key a client may make a minute before every request of its answers 429. */
    authFailuresPerMinute: number
    /** Fastify's `trustProxy`: whether, or which, proxies' X-Forwarded-For names the client. */
    trustProxy: boolean | number | string[]
    /** Exports (CSV, NDJSON, tax formats) streaming at once in this process; more answer 503. */
    exportMaxConcurrent: number
    /** The key cursors are signed with; undefined uses the one the database holds. */
    cursorSecret: string | undefined
    /** When set, `/metrics` answers only requests carrying it. */
    metricsApiKey: string | undefined
  }
  logLevel: string
  etl: {
    schedule: string
    /** ETL_SCHEDULE was given, not defaulted, so `serve` schedules it too. */
    scheduleSet: boolean
    concurrency: number
    /** The datasets a scheduled or plain `hl-twap etl` run ingests, in order. */
    datasets: DatasetName[]
  }
  health: { staleAfterHours: number; timeoutMs: number }
}

/** Raised for a bad variable; its message is the one line a user sees. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Validates the environment once and returns the typed configuration. Throws a
 * `ConfigError` whose message names the first bad variable and its value, so start-up can
 * stop with one clear line instead of a stack trace.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const data = Object.fromEntries(
    Object.keys(EnvSchema.properties)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  )
  let parsed: Env
  try {
    parsed = envSchema<Env>({ schema: EnvSchema, data, env: false })
  } catch (err) {
    throw describeEnvError(err, data)
  }
  if (parsed.DATABASE_URL !== undefined) assertUrl('DATABASE_URL', parsed.DATABASE_URL)
  if (parsed.DATABASE_READ_URL !== undefined) {
    assertUrl('DATABASE_READ_URL', parsed.DATABASE_READ_URL)
    if (parsed.DATABASE_URL === undefined) throw new ConfigError('DATABASE_READ_URL needs DATABASE_URL: it names a replica of that PostgreSQL, and the embedded database has none')
  }
  if (parsed.AWS_ENDPOINT_URL !== undefined) assertUrl('AWS_ENDPOINT_URL', parsed.AWS_ENDPOINT_URL)
  if (parsed.RATE_LIMIT_REDIS_URL !== undefined) assertUrl('RATE_LIMIT_REDIS_URL', parsed.RATE_LIMIT_REDIS_URL)
  const origins = splitList(parsed.CORS_ORIGINS)
  const datasets = splitList(parsed.ETL_DATASETS)
  if (datasets.length === 0 || datasets.some((d) => !(DATASET_NAMES as readonly string[]).includes(d))) {
    throw new ConfigError(`ETL_DATASETS must be statuses, fills or both, comma-separated (got ${JSON.stringify(parsed.ETL_DATASETS)})`)
  }
  return {
    databaseUrl: parsed.DATABASE_URL === undefined ? undefined : withExplicitSslMode(parsed.DATABASE_URL),
    databaseReadUrl: parsed.DATABASE_READ_URL === undefined ? undefined : withExplicitSslMode(parsed.DATABASE_READ_URL),
    dataDir: parsed.TWAP_DATA_DIR,
    database: { statementTimeoutMs: parsed.DATABASE_STATEMENT_TIMEOUT_MS, connectTimeoutMs: parsed.DATABASE_CONNECT_TIMEOUT_MS },
    s3: {
      region: parsed.AWS_REGION,
      bucket: parsed.AWS_S3_BUCKET,
      prefix: parsed.AWS_S3_PREFIX,
      requestPayer: parsed.AWS_REQUEST_PAYER,
      endpoint: parsed.AWS_ENDPOINT_URL,
      forcePathStyle: parsed.AWS_S3_FORCE_PATH_STYLE,
    },
    fills: { bucket: parsed.FILLS_S3_BUCKET, prefix: parsed.FILLS_S3_PREFIX },
    api: {
      host: parsed.API_HOST,
      port: parsed.API_PORT,
      corsOrigins: origins.includes('*') ? '*' : origins,
      apiKeys: splitList(parsed.API_KEYS),
      rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
      rateLimitRedisUrl: parsed.RATE_LIMIT_REDIS_URL,
      authFailuresPerMinute: parsed.AUTH_FAILURES_PER_MINUTE,
      trustProxy: parseTrustProxy(parsed.TRUST_PROXY),
      exportMaxConcurrent: parsed.EXPORT_MAX_CONCURRENT ?? defaultExportSlots(),
      cursorSecret: parsed.CURSOR_SECRET,
      metricsApiKey: parsed.METRICS_API_KEY,
    },
    logLevel: parsed.LOG_LEVEL,
    etl: {
      schedule: parsed.ETL_SCHEDULE,
      scheduleSet: data.ETL_SCHEDULE !== undefined,
      concurrency: parsed.ETL_CONCURRENCY,
      datasets: [...new Set(datasets as DatasetName[])],
    },
    health: { staleAfterHours: parsed.HEALTH_STALE_AFTER_HOURS, timeoutMs: parsed.HEALTH_TIMEOUT_MS },
  }
}

/**
 * A connection string with `sslmode=require` written as what node-postgres does with it:
 * `verify-full` (encrypted, the server's certificate checked). The driver reads the two
 * alike but prints a warning on every start that `require` will mean less in its next
 * major version; saying `verify-full` keeps today's checks and drops the warning. Other
 * modes are left as written.
 */
function withExplicitSslMode(url: string): string {
  const parsed = new URL(url)
  if (parsed.searchParams.get('sslmode') !== 'require' || parsed.searchParams.has('uselibpqcompat')) return url
  parsed.searchParams.set('sslmode', 'verify-full')
  return parsed.toString()
}

/**
 * `TRUST_PROXY` as Fastify's `trustProxy` takes it: `true` (any proxy: the left-most
 * X-Forwarded-For address is the client), `false` (the TCP peer is), a hop count, or the
 * addresses and CIDR ranges of the proxies to trust, comma-separated.
 */
function parseTrustProxy(value: string): boolean | number | string[] {
  const text = value.trim().toLowerCase()
  if (text === 'true') return true
  if (text === 'false') return false
  if (/^\d{1,3}$/.test(text)) return Number(text)
  const entries = splitList(text)
  const bad = entries.find((entry) => !isAddressOrRange(entry))
  if (entries.length === 0 || bad !== undefined) {
    throw new ConfigError(`TRUST_PROXY must be true, false, a hop count or comma-separated IP addresses / CIDR ranges (got ${JSON.stringify(bad ?? value)})`)
  }
  return entries
}

function isAddressOrRange(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/')
  const family = isIP(address)
  if (family === 0 || rest.length > 0) return false
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128))
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean)
}

function assertUrl(name: string, value: string): void {
  if (!URL.canParse(value)) throw new ConfigError(`${name} is not a valid URL: ${JSON.stringify(redact(value))}`)
}

/** Hides the password of a connection string before it is printed. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@')
}

function describeEnvError(err: unknown, data: Record<string, unknown>): ConfigError {
  const first = (err as { errors?: { instancePath: string; message?: string }[] }).errors?.[0]
  if (!first) return new ConfigError(`invalid configuration: ${(err as Error).message}`)
  const name = first.instancePath.replace(/^\//, '')
  const value = data[name]
  const shown = typeof value === 'string' ? JSON.stringify(redact(value)) : String(value)
  return new ConfigError(`${name} ${first.message ?? 'is invalid'} (got ${shown})`)
}

/**
 * Exports streaming at once when `EXPORT_MAX_CONCURRENT` is not set: 2, or 1 on a machine
 * of 2 cores or fewer. An export keeps this process's one thread formatting and a database
 * backend reading; on 2 cores shared with PostgreSQL one export already takes both, and
 * each one more only made every other request wait longer for the same bytes in all
 * (bench: `/healthz` p99 64 ms with one, 149 ms with two, 258 ms with four, while 20
 * clients exported). A second slot pays where the database has cores of its own, letting
 * one export format while the other waits for its rows.
 */
export function defaultExportSlots(): number {
  return availableParallelism() <= 2 ? 1 : 2
}
