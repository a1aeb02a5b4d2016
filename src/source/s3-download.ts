import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { stat, unlink } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { crc32 } from 'node:zlib'
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { requestPayer, type S3Config } from './s3-client.ts'
import {
  CorruptBodyError,
  describeS3Error,
  DownloadError,
  IncompleteBodyError,
  isCorruptBody,
  isPreconditionFailed,
  isTransient,
  ObjectChangedError,
} from './s3-errors.ts'
import { unquoteEtag, type RemoteObject } from './s3-listing.ts'

/** What a download needs to know of an object; without an ETag the version is not checked. */
export type DownloadTarget = Pick<RemoteObject, 'key' | 'size'> & { etag?: string | null }

/** Streams one object to `destPath`, resuming it from the bytes on disk with a Range request when its body breaks midway, because the SDK's retry strategy retries requests but cannot resume a body stream once it has started. */
export async function downloadObject(
  client: S3Client,
  s3: S3Config,
  object: DownloadTarget,
  destPath: string,
  opts: {
    signal?: AbortSignal
    /** Hears of every chunk as it arrives. */
    onBytes?: (n: number) => void
    /** Tries in all (default 5), with exponential backoff and full jitter between them. */
    attempts?: number
  } = {},
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
        if (isCorruptBody(err)) {
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
    // On final failure no partial file is left behind.
    await unlink(destPath).catch(() => undefined)
    throw err
  }
}

const BACKOFF_BASE_MS = 200
const BACKOFF_CAP_MS = 10_000

/** Whole-object checksums S3 sent (base64), for the algorithms verified here. */
interface Announced {
  crc32?: string
  sha1?: string
  sha256?: string
}

/**
 * Checks the downloaded file against the MD5 of a plain ETag (32 hex digits; a multipart
 * ETag, `…-N`, is no MD5 of the body) and the CRC32, SHA-1 or SHA-256 checksums S3 announced
 * with a whole-object answer (other algorithms the SDK checks itself). Read back from disk,
 * so what is checked is what will be decoded, however many resumed attempts wrote it.
 */
async function verifyBody(path: string, object: DownloadTarget, announced: Announced): Promise<void> {
  const etag = unquoteEtag(object.etag).toLowerCase()
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
 * attempt left on disk (the requester pays for every byte sent twice). Those bytes are a
 * prefix of the same version, since every GET is conditional on the listed ETag, so an
 * object rewritten mid-run fails with `ObjectChangedError` instead of mixing two versions.
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
      RequestPayer: requestPayer(s3),
      IfMatch: object.etag ? `"${unquoteEtag(object.etag)}"` : undefined,
      Range: offset > 0 ? `bytes=${offset}-` : undefined,
      ChecksumMode: 'ENABLED',
    }), { abortSignal: opts.signal })
  } catch (err) {
    if (isPreconditionFailed(err)) {
      throw new ObjectChangedError(`${where} changed since it was listed (ETag is no longer "${object.etag}"); run again to pick up the new version`, { cause: err })
    }
    throw err
  }
  const body = out.Body as Readable | undefined
  if (!body) throw new IncompleteBodyError('S3 sent no body')
  const etag = unquoteEtag(out.ETag)
  if (object.etag && etag && etag !== unquoteEtag(object.etag)) {
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
