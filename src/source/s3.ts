import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat, unlink } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { crc32 } from 'node:zlib'
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type RequestPayer,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import type { Config } from '#src/config.ts'

type S3Config = Config['s3']

/** One object of the bucket as listing or HeadObject describe it. */
export interface RemoteObject {
  key: string
  /** Bytes; what a download must produce. */
  size: number
  /** The ETag without its quotes (`"abc"` → `abc`), so list and head values compare equal. */
  etag: string
  lastModified: Date
}

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

/**
 * Returns an S3 client for the configured region and endpoint whose requests survive a
 * flaky network: the SDK's standard retry strategy (exponential backoff with jitter,
 * throttling-aware) with 6 attempts, and timeouts on connecting, on waiting for response
 * headers and on an idle socket, so a hung connection fails and is retried instead of
 * blocking a run forever. Credentials come from the SDK's default chain unless given.
 */
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

/**
 * Yields every object under the prefix (default: the configured one) in key order,
 * following continuation tokens page after page, since S3 answers at most 1,000 keys a
 * request. Each page is requested only when the previous one has been consumed. Every
 * request carries the configured `RequestPayer`.
 */
export async function* listObjects(
  client: S3Client,
  s3: S3Config,
  opts: { prefix?: string } = {},
): AsyncGenerator<RemoteObject> {
  const prefix = opts.prefix ?? s3.prefix
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({
      Bucket: s3.bucket,
      Prefix: prefix || undefined,
      ContinuationToken: token,
      RequestPayer: payer(s3),
    }))
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined) continue
      yield { key: item.Key, size: item.Size ?? 0, etag: unquote(item.ETag), lastModified: item.LastModified ?? new Date(0) }
    }
    if (page.IsTruncated && !page.NextContinuationToken) {
      throw new Error(`listing s3://${s3.bucket}/${prefix} is truncated but S3 sent no continuation token`)
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
}

/** Returns the current size, ETag and LastModified of one object (HeadObject, requester pays). */
export async function headObject(client: S3Client, s3: S3Config, key: string): Promise<RemoteObject> {
  const out = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key, RequestPayer: payer(s3) }))
  return { key, size: out.ContentLength ?? 0, etag: unquote(out.ETag), lastModified: out.LastModified ?? new Date(0) }
}

/** Thrown when an object no longer is the version that was listed; retrying cannot help. */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError'
}

/** Thrown when a download fails for good; `cause` holds the last failure. */
export class DownloadError extends Error {
  override name = 'DownloadError'
}

/** What a download needs to know of an object; without an ETag the version is not checked. */
export type DownloadTarget = Pick<RemoteObject, 'key' | 'size'> & { etag?: string | null }

/**
 * Streams one object to `destPath` and resolves once the file holds exactly the listed
 * bytes. The body goes straight to disk (never held in memory), `onBytes` hears of every
 * chunk as it arrives, and every GET is conditional on the listed ETag, so an object
 * rewritten mid-run fails with `ObjectChangedError` instead of mixing two versions.
 *
 * The SDK retries a request that fails before its body starts; it cannot retry a body
 * that breaks half-way (reset, truncation, stalled socket). This function does: up to
 * `attempts` tries (default 5) with exponential backoff and full jitter, resuming from
 * the bytes already on disk with a Range request — the requester pays for every byte
 * sent twice. On final failure the partial file is removed.
 *
 * A body is kept only when it matches what S3 says of the object: the MD5 a plain ETag is,
 * and the CRC32, SHA-1 or SHA-256 checksum S3 sends with a whole-object answer (other
 * algorithms the SDK checks itself on a whole-object answer). A mismatch discards the
 * file and downloads the object again from its first byte, within the same attempts.
 */
export async function downloadObject(
  client: S3Client,
  s3: S3Config,
  object: DownloadTarget,
  destPath: string,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void; attempts?: number } = {},
): Promise<void> {
  const attempts = Math.max(1, opts.attempts ?? 5)
  const where = `s3://${s3.bucket}/${object.key}`
  const announced: Announced = {}
  // After a body that failed its checksum nothing on disk can be trusted: start over.
  let fresh = true
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const resume = !fresh
        fresh = false
        await fetchRemainder(client, s3, object, destPath, resume, opts, announced)
        const written = (await stat(destPath)).size
        if (written !== object.size) throw new IncompleteBodyError(`got ${written} of ${object.size} bytes`)
        await verifyBody(destPath, object, announced)
        return
      } catch (err) {
        if (opts.signal?.aborted) throw opts.signal.reason ?? err
        if (err instanceof ObjectChangedError) throw err
        if (err instanceof CorruptBodyError || /checksum mismatch/i.test((err as Error).message ?? '')) {
          fresh = true
          await unlink(destPath).catch(() => undefined)
        }
        if (attempt >= attempts || !isTransient(err)) {
          throw new DownloadError(`download of ${where} failed after ${attempt} attempt(s): ${describeS3Error(err)}`, { cause: err })
        }
        const backoff = Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))
        await sleep(backoff, undefined, { signal: opts.signal })
      }
    }
  } catch (err) {
    await unlink(destPath).catch(() => undefined)
    throw err
  }
}

const BACKOFF_BASE_MS = 200
const BACKOFF_CAP_MS = 10_000

class IncompleteBodyError extends Error {
  override name = 'IncompleteBodyError'
}

/** The bytes on disk are the right length but not the object's: a bit flipped on the way. */
class CorruptBodyError extends Error {
  override name = 'CorruptBodyError'
}

/** Whole-object checksums S3 sent (base64), for the algorithms verified here. */
interface Announced {
  crc32?: string
  sha1?: string
  sha256?: string
}

/**
 * Checks the downloaded file against the MD5 of a plain ETag (32 hex digits; a multipart
 * ETag, `…-N`, is no MD5 of the body) and the checksums S3 announced. Read back from disk,
 * so what is checked is what will be decoded, however many resumed attempts wrote it.
 */
async function verifyBody(path: string, object: DownloadTarget, announced: Announced): Promise<void> {
  const etag = unquote(object.etag).toLowerCase()
  const md5 = /^[0-9a-f]{32}$/.test(etag) ? createHash('md5') : undefined
  const sha1 = announced.sha1 ? createHash('sha1') : undefined
  const sha256 = announced.sha256 ? createHash('sha256') : undefined
  let crc = 0
  if (!md5 && !sha1 && !sha256 && !announced.crc32) return
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    md5?.update(chunk)
    sha1?.update(chunk)
    sha256?.update(chunk)
    if (announced.crc32) crc = crc32(chunk, crc)
  }
  const mismatch = (what: string, got: string, want: string): never => {
    throw new CorruptBodyError(`the body does not match its ${what} (got ${got}, S3 says ${want})`)
  }
  if (md5) {
    const got = md5.digest('hex')
    if (got !== etag) mismatch('MD5 (the ETag)', got, etag)
  }
  if (announced.crc32) {
    const bytes = Buffer.alloc(4)
    bytes.writeUInt32BE(crc >>> 0)
    const got = bytes.toString('base64')
    if (got !== announced.crc32) mismatch('CRC32 checksum', got, announced.crc32)
  }
  if (sha1 && announced.sha1) {
    const got = sha1.digest('base64')
    if (got !== announced.sha1) mismatch('SHA-1 checksum', got, announced.sha1)
  }
  if (sha256 && announced.sha256) {
    const got = sha256.digest('base64')
    if (got !== announced.sha256) mismatch('SHA-256 checksum', got, announced.sha256)
  }
}

/**
 * One GET: the whole object, or — when `resume` — the rest of it after the bytes a broken
 * attempt left on disk. Those bytes are a prefix of the same version, since every GET is
 * conditional on the ETag.
 */
async function fetchRemainder(
  client: S3Client,
  s3: S3Config,
  object: DownloadTarget,
  destPath: string,
  resume: boolean,
  opts: { signal?: AbortSignal; onBytes?: (n: number) => void },
  announced: Announced,
): Promise<void> {
  const onDisk = resume ? await stat(destPath).then((s) => s.size, () => 0) : 0
  if (onDisk === object.size && onDisk > 0) return
  const offset = onDisk < object.size ? onDisk : 0
  const where = `s3://${s3.bucket}/${object.key}`
  let out
  try {
    out = await client.send(new GetObjectCommand({
      Bucket: s3.bucket,
      Key: object.key,
      RequestPayer: payer(s3),
      IfMatch: object.etag ? `"${unquote(object.etag)}"` : undefined,
      Range: offset > 0 ? `bytes=${offset}-` : undefined,
      ChecksumMode: 'ENABLED',
    }), { abortSignal: opts.signal })
  } catch (err) {
    if (errorName(err) === 'PreconditionFailed' || statusOf(err) === 412) {
      throw new ObjectChangedError(`${where} changed since it was listed (ETag is no longer "${object.etag}"); run again to pick up the new version`, { cause: err })
    }
    throw err
  }
  const body = out.Body as Readable | undefined
  if (!body) throw new IncompleteBodyError('S3 sent no body')
  const etag = unquote(out.ETag)
  if (object.etag && etag && etag !== unquote(object.etag)) {
    body.destroy()
    throw new ObjectChangedError(`${where} changed since it was listed (ETag "${object.etag}" → "${etag}"); run again to pick up the new version`)
  }
  // A server that ignores Range answers 200 with the whole object: start the file over.
  const resumed = offset > 0 && out.$metadata.httpStatusCode === 206
  const total = resumed ? Number(out.ContentRange?.split('/')[1]) : out.ContentLength
  // The GET was conditional on the listed ETag, so a length other than the listed one is a
  // body cut short (or padded) on the way, not a new version: worth another attempt.
  if (total !== undefined && Number.isFinite(total) && total !== object.size) {
    body.destroy()
    throw new IncompleteBodyError(`S3 announced ${total} bytes of ${object.size}`)
  }
  // A checksum of a whole-object answer covers the whole object; a composite one (`…-N`) does not.
  if (!resumed && out.ChecksumType !== 'COMPOSITE') {
    const whole = (value: string | undefined) => (value && !/-\d+$/.test(value) ? value : undefined)
    announced.crc32 = whole(out.ChecksumCRC32) ?? announced.crc32
    announced.sha1 = whole(out.ChecksumSHA1) ?? announced.sha1
    announced.sha256 = whole(out.ChecksumSHA256) ?? announced.sha256
  }
  const onBytes = opts.onBytes
  await pipeline(
    body,
    async function* count(source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        onBytes?.(chunk.length)
        yield chunk
      }
    },
    createWriteStream(destPath, { flags: resumed ? 'a' : 'w' }),
    { signal: opts.signal },
  )
}

/** Failures worth another attempt: network breaks, timeouts, throttling and 5xx. */
function isTransient(err: unknown): boolean {
  if (err instanceof IncompleteBodyError || err instanceof CorruptBodyError) return true
  const e = err as { name?: string; code?: string; message?: string; $retryable?: unknown }
  const status = statusOf(err)
  if (status !== undefined && (status >= 500 || status === 429)) return true
  if (e.$retryable) return true
  if (['TimeoutError', 'RequestTimeout', 'SlowDown', 'ThrottlingException'].includes(e.name ?? '')) return true
  if (['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'EAI_AGAIN'].includes(e.code ?? '')) return true
  // Node reports a body cut short as "aborted"; the SDK's checksum check as "Checksum mismatch".
  return /^aborted$|socket hang up|checksum mismatch/i.test(e.message ?? '')
}

/**
 * Turns an S3 or credential failure into one line a user can act on: what S3 said, and
 * the setting to check (request payer, credentials, bucket, region, endpoint).
 */
export function describeS3Error(err: unknown): string {
  const e = (err ?? {}) as { name?: string; message?: string; code?: string; BucketName?: string; Key?: string }
  const name = errorName(err)
  const status = statusOf(err)
  const message = oneLine(e.message ?? String(err))
  if (err instanceof ObjectChangedError || err instanceof DownloadError) return message
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return 'no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)'
  }
  if (['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired'].includes(name)) {
    return `${name}: ${message} (the AWS credentials are invalid or expired)`
  }
  if (name === 'AccessDenied' || status === 403) {
    return `AccessDenied: ${message} (is AWS_REQUEST_PAYER set to "requester"? are credentials configured and allowed to read this bucket?)`
  }
  if (name === 'NoSuchBucket') {
    return `NoSuchBucket: bucket ${JSON.stringify(e.BucketName ?? '')} does not exist (check AWS_S3_BUCKET and AWS_ENDPOINT_URL)`
  }
  if (name === 'NoSuchKey' || (name === 'NotFound' && status === 404)) {
    return `NoSuchKey: ${e.Key ? `${JSON.stringify(e.Key)} ` : ''}not found (the object may have been deleted since it was listed)`
  }
  if (['PermanentRedirect', 'AuthorizationHeaderMalformed', 'IllegalLocationConstraintException'].includes(name) || status === 301) {
    return `${name}: ${message} (the bucket is in another region: check AWS_REGION)`
  }
  if (name === 'SlowDown' || status === 503) return `SlowDown: S3 is throttling requests (lower --concurrency and retry later)`
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code ?? '')) {
    return `${e.code}: ${message} (cannot reach S3: check the network and AWS_ENDPOINT_URL)`
  }
  if (name === 'TimeoutError' || ['ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(e.code ?? '')) {
    return `${e.code ?? name}: ${message} (the connection to S3 broke or stalled)`
  }
  return name === 'Error' ? message : `${name}: ${message}`
}

function payer(s3: S3Config): RequestPayer | undefined {
  return (s3.requestPayer || undefined) as RequestPayer | undefined
}

function unquote(etag: string | null | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '')
}

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | null
  return e?.Code ?? e?.name ?? 'Error'
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

/**
 * True for the objects the ETL ingests: a name ending in one of `extensions` (any case;
 * default `.parquet`) with at least one byte.
 * Folder keys, zero-byte objects, checksum files and the markers data-lake tools write
 * beside their output (`_SUCCESS`, `_metadata`, `_common_metadata`, any name starting
 * with `_` or `.`, which Hadoop-style readers treat as hidden) are not.
 */
export function isIngestibleKey(key: string, size: number, extensions: readonly string[] = ['.parquet']): boolean {
  if (size <= 0 || key.endsWith('/')) return false
  const name = key.slice(key.lastIndexOf('/') + 1)
  if (name.startsWith('_') || name.startsWith('.')) return false
  const lower = name.toLowerCase()
  return extensions.some((ext) => lower.endsWith(ext))
}
