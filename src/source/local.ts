import { readdir, stat } from 'node:fs/promises'
import { createHash } from 'node:crypto'
import { dirname, join, relative, resolve, sep } from 'node:path'
import type { SourceObject } from './object.ts'
import type { CostEstimate, OpenedObject, Source } from './source.ts'

/** Files on this machine as a source: nothing to download, nothing to pay. */
export class LocalSource implements Source {
  readonly #paths: readonly string[]

  constructor(paths: readonly string[]) {
    this.#paths = paths
  }

  list(extensions: readonly string[]): Promise<SourceObject[]> {
    return listLocalFiles(this.#paths, extensions)
  }

  cost(): CostEstimate {
    return { listRequests: 0, getRequests: 0, bytes: 0, usd: 0 }
  }

  async open(object: SourceObject): Promise<OpenedObject> {
    if (object.path === undefined) throw new Error(`${object.key} was not listed by this source`)
    return { path: object.path, release: async () => {} }
  }

  async close(): Promise<void> {}
}

/**
 * The data files named on the command line: files as given, directories searched
 * recursively for names ending in one of `extensions` (default `.parquet`). Each becomes a
 * source object keyed by `localKey`, with size and modification time standing in for S3's
 * ETag so that a rewritten file is ingested again.
 */
export async function listLocalFiles(paths: readonly string[], extensions: readonly string[] = ['.parquet']): Promise<SourceObject[]> {
  // Each file's absolute path, with what its shown name is relative to: the directory given, or the given file's own directory.
  const found = new Map<string, string>()
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new Error(`--local-file ${path}: no such file or directory`)
    })
    const base = info.isDirectory() ? resolve(path) : dirname(resolve(path))
    const files = info.isDirectory() ? await findFiles(path, extensions) : [path]
    for (const file of files) if (!found.has(resolve(file))) found.set(resolve(file), base)
  }
  const unique = [...found.keys()].sort()
  return Promise.all(unique.map(async (file) => {
    const info = await stat(file)
    return {
      key: localKey(file, relative(found.get(file)!, file)),
      size: info.size,
      etag: `${info.size}-${Math.trunc(info.mtimeMs)}`,
      lastModified: info.mtime,
      path: file,
    }
  }))
}

/**
 * The ingest-log key of the local file at absolute path `file`, named `shown` (its name
 * for a file given as such, the path below the given directory for a file found in one): `local:<hash>/<shown>`. The key is shown by the API
 * (`s3_object_key`), so it holds no path above what was given. The hash, the first 8 hex
 * digits of SHA-256 of the absolute path, keeps two files with the same name in different
 * places (two `part-0.parquet` given in different runs) apart in the ingest log, and gives
 * a file the same key whatever the working directory and whether the CLI or a running
 * server (which gets absolute paths) ingests it.
 */
export function localKey(file: string, shown: string): string {
  const hash = createHash('sha256').update(file).digest('hex').slice(0, 8)
  return `local:${hash}/${shown.split(sep).join('/')}`
}

/** The path part of a key, what its hours are read from: `<shown>` of `local:<hash>/<shown>` (a hash of digits only is no date), the path of an older `local:<path>`, or the key itself. */
export function keyPath(key: string): string {
  return key.replace(/^local:(?:[0-9a-f]{8}\/)?/, '')
}

async function findFiles(dir: string, extensions: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries
    .filter((e) => e.isFile() && extensions.some((ext) => e.name.toLowerCase().endsWith(ext)))
    .map((e) => join(e.parentPath, e.name))
}
