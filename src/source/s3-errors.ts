/** Thrown when an object no longer is the version that was listed; retrying cannot help. */
export class ObjectChangedError extends Error {
  override name = 'ObjectChangedError'
}

/** Thrown when a download fails for good; `cause` holds the last failure. */
export class DownloadError extends Error {
  override name = 'DownloadError'
}

/** A body that ended before all the object's bytes arrived; worth another attempt. */
export class IncompleteBodyError extends Error {
  override name = 'IncompleteBodyError'
}

/** The bytes on disk are the right length but not the object's: a bit flipped on the way. */
export class CorruptBodyError extends Error {
  override name = 'CorruptBodyError'
}

/** Failures worth another attempt: network breaks, timeouts, throttling and 5xx. */
export function isTransient(err: unknown): boolean {
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

/** True when the bytes that arrived failed a checksum, ours or the SDK's, so none on disk can be kept. */
export function isCorruptBody(err: unknown): boolean {
  return err instanceof CorruptBodyError || /checksum mismatch/i.test((err as Error).message ?? '')
}

/** True when S3 refused a conditional request because the object's ETag no longer matches. */
export function isPreconditionFailed(err: unknown): boolean {
  return errorName(err) === 'PreconditionFailed' || statusOf(err) === 412
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
