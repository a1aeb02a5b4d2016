import { S3Client, type RequestPayer, type S3ClientConfig } from '@aws-sdk/client-s3'
import type { Config } from '#src/config.ts'

/** The S3 part of the configuration: bucket, prefix, region, endpoint and request payer. */
export type S3Config = Config['s3']

/** Client options beyond the configuration; tests use them to shorten waits. */
export interface S3ClientOptions {
  /** Attempts per request, first included (default 6). */
  maxAttempts?: number
  /** Explicit credentials; omitted → the SDK default chain (env, profiles, SSO, roles). */
  credentials?: S3ClientConfig['credentials']
  timeouts?: {
    /** To establish the TCP/TLS connection (default 5 s). */
    connectMs?: number
    /** From sending the request to the response headers (default 60 s). */
    requestMs?: number
    /** Silence on an open socket, including mid-body (default 60 s). */
    idleMs?: number
  }
}

/** Returns an S3 client for the configured region and endpoint that retries failed requests with the SDK's standard strategy (6 attempts) and times out hung connections so they are retried. */
export function createS3Client(s3: S3Config, options: S3ClientOptions = {}): S3Client {
  const t = options.timeouts ?? {}
  return new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.forcePathStyle,
    followRegionRedirects: s3.followRegionRedirects,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? 6,
    // `standard` rather than `adaptive`: adaptive throttles the whole client after one
    // SlowDown, which would stall every concurrent download for a single hot key.
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: t.connectMs ?? 5_000,
      requestTimeout: t.requestMs ?? 60_000,
      throwOnRequestTimeout: true,
      socketTimeout: t.idleMs ?? 60_000,
    },
  })
}

/** The `RequestPayer` every request of ours carries: the configured one, or none. */
export function requestPayer(s3: S3Config): RequestPayer | undefined {
  return (s3.requestPayer || undefined) as RequestPayer | undefined
}
