import { loadConfig, type Config } from '#src/config.ts'
import { makeEvents, writeTwapParquet, type SourceEvent } from './parquet.ts'
import type { S3TestServer } from './s3-server.ts'

/** The prefix the bucket fixtures publish under (the configured default). */
export const PREFIX = 'raw/twap_statuses/'

/** The prefix fills fixtures publish under (the configured default), in the same test bucket. */
export const FILLS_PREFIX = 'node_fills_by_block/hourly/'

/** The wallet every event `hourEvents` makes belongs to. */
export const BUCKET_WALLET = '0x' + '5e'.repeat(20)

/**
 * The environment that points the service at the test server as at the real bucket:
 * endpoint, path-style addressing, keys for the SDK's default chain, bucket and prefix.
 */
export function bucketEnv(server: S3TestServer): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: server.endpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test-key',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_S3_BUCKET: server.bucket,
    AWS_S3_PREFIX: PREFIX,
    FILLS_S3_BUCKET: server.bucket,
    FILLS_S3_PREFIX: FILLS_PREFIX,
  }
}

/** The configuration `bucketEnv` (and `extra`) give, with the API on a free local port. */
export function bucketConfig(server: S3TestServer, extra: Record<string, string> = {}): Config {
  return loadConfig({ ...bucketEnv(server), API_HOST: '127.0.0.1', API_PORT: '0', ...extra })
}

/** `twaps` TWAPs of `BUCKET_WALLET` placed from `start` on (ids from `firstTwapId`), all finished. */
export function hourEvents(start: string, firstTwapId: number, twaps = 3): SourceEvent[] {
  return makeEvents({ wallets: [BUCKET_WALLET], twapsPerWallet: twaps, start, firstTwapId, runningShare: 0, seed: firstTwapId })
}

/**
 * Publishes `events` as the parquet object `key` (under `PREFIX`), as an hourly partition
 * writer would, with a `_SUCCESS` marker beside it. Returns the object's size in bytes.
 */
export async function publish(server: S3TestServer, key: string, events: readonly SourceEvent[]): Promise<number> {
  const body = new Uint8Array(await writeTwapParquet(events, { codec: 'SNAPPY' }))
  server.putObject(PREFIX + key, body)
  server.putObject(PREFIX + key.replace(/[^/]*$/, '_SUCCESS'), '')
  return body.byteLength
}
