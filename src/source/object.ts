/**
 * An object a source offers: an S3 object as listing or HeadObject describe it, or a local
 * file (then `path` is set, and there is nothing to download). What the ETL plans with.
 */
export interface SourceObject {
  key: string
  /** Bytes. */
  size: number
  etag: string | null
  lastModified: Date
  path?: string
}
