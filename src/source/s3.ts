import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { NotFound, type S3Client } from '@aws-sdk/client-s3'
import type { Logger } from 'pino'
import { createS3Client, type S3Config } from './s3-client.ts'
import { estimateCost } from './s3-cost.ts'
import { createDownloadDir, removeDownloadDir } from './download-dir.ts'
import { downloadObject } from './s3-download.ts'
import { describeS3Error } from './s3-errors.ts'
import { headObject, isIngestibleKey, listObjects } from './s3-listing.ts'
import type { SourceObject } from './object.ts'
import { NotIngestibleError, type CostEstimate, type OpenedObject, type Source } from './source.ts'

/** Which objects of the bucket a run takes: one by its key, or every one under the prefix (modified since `since`). */
export type S3Selection = { key: string } | { since?: Date }

export interface S3SourceOptions {
  config: S3Config
  selection: S3Selection
  /** A client to use instead of one built from `config` (the caller keeps it). */
  client?: S3Client
  /** The variable that sets the prefix, for the message about a key given without it. */
  prefixVariable: string
  logger: Logger
}

/**
 * A requester-pays S3 bucket as a source: listed page by page (or one object read by its
 * head), each object downloaded into a directory of its own that `close` removes.
 */
export class S3Source implements Source {
  readonly #options: S3SourceOptions
  readonly #client: S3Client
  #listRequests = 0
  #dir: Promise<string> | undefined
  #downloads = 0

  constructor(options: S3SourceOptions) {
    this.#options = options
    this.#client = options.client ?? createS3Client(options.config)
  }

  async list(extensions: readonly string[]): Promise<SourceObject[]> {
    const { config, selection, prefixVariable } = this.#options
    if ('key' in selection) {
      let object: SourceObject
      try {
        object = await headObject(this.#client, config, selection.key)
      } catch (err) {
        throw new Error(`cannot read s3://${config.bucket}/${selection.key}: ${err instanceof NotFound ? `no such object (--object-key takes the whole key, ${prefixVariable} included)` : describeS3Error(err)}`, { cause: err })
      }
      if (!isIngestibleKey(object.key, object.size, extensions)) throw new NotIngestibleError(selection.key)
      return [object]
    }
    const objects: SourceObject[] = []
    let listed = 0
    try {
      for await (const object of listObjects(this.#client, config)) {
        listed++
        if (!isIngestibleKey(object.key, object.size, extensions)) continue
        if (selection.since && object.lastModified < selection.since) continue
        objects.push(object)
      }
    } catch (err) {
      throw new Error(`cannot list s3://${config.bucket}/${config.prefix}: ${describeS3Error(err)}`, { cause: err })
    }
    this.#listRequests = Math.max(1, Math.ceil(listed / 1000))
    return objects
  }

  cost(objects: number, bytes: number): CostEstimate {
    return estimateCost(this.#listRequests, objects, bytes)
  }

  async open(object: SourceObject, onBytes: (n: number) => void): Promise<OpenedObject> {
    this.#dir ??= createDownloadDir(this.#options.logger)
    const dir = await this.#dir
    const extension = /\.[^./]+$/.exec(object.key)?.[0] ?? ''
    const path = join(dir, `${++this.#downloads}${extension.toLowerCase()}`)
    const release = () => rm(path, { force: true })
    try {
      await downloadObject(this.#client, this.#options.config, object, path, { onBytes })
    } catch (err) {
      await release()
      throw new Error(`download failed: ${describeS3Error(err)}`, { cause: err })
    }
    return { path, release }
  }

  async close(): Promise<void> {
    // A client made for this source goes with it: a scheduled process makes one a day.
    if (!this.#options.client) this.#client.destroy()
    const dir = this.#dir
    this.#dir = undefined
    if (dir) await removeDownloadDir(await dir).catch(() => {})
  }
}
