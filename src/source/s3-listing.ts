import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { requestPayer, type S3Config } from './s3-client.ts'

/** One object of the bucket as listing or HeadObject describe it. */
export interface RemoteObject {
  key: string
  /** Bytes; what a download must produce. */
  size: number
  /** The ETag without its quotes (`"abc"` → `abc`), so list and head values compare equal. */
  etag: string
  lastModified: Date
}

/** Yields every object under the prefix (default: the configured one) in key order, requesting page after page by continuation token, since S3 answers at most 1,000 keys a request. */
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
      RequestPayer: requestPayer(s3),
    }))
    for (const item of page.Contents ?? []) {
      if (item.Key === undefined) continue
      yield { key: item.Key, size: item.Size ?? 0, etag: unquoteEtag(item.ETag), lastModified: item.LastModified ?? new Date(0) }
    }
    if (page.IsTruncated && !page.NextContinuationToken) {
      throw new Error(`listing s3://${s3.bucket}/${prefix} is truncated but S3 sent no continuation token`)
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
}

/** Returns the current size, ETag and LastModified of one object (HeadObject, requester pays). */
export async function headObject(client: S3Client, s3: S3Config, key: string): Promise<RemoteObject> {
  const out = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key, RequestPayer: requestPayer(s3) }))
  return { key, size: out.ContentLength ?? 0, etag: unquoteEtag(out.ETag), lastModified: out.LastModified ?? new Date(0) }
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

/** An ETag without its quotes and weak marker (`W/"abc"` → `abc`); `''` when there is none. */
export function unquoteEtag(etag: string | null | undefined): string {
  return (etag ?? '').replace(/^W\//, '').replace(/^"|"$/g, '')
}
