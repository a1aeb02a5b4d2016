import { readdir, stat } from 'node:fs/promises'
import { isAbsolute, join, relative, resolve } from 'node:path'
import type { SourceObject } from './object.ts'

/**
 * The data files named on the command line: files as given, directories searched
 * recursively for names ending in one of `extensions` (default `.parquet`). Each becomes a source object keyed `local:<path>` (relative
 * to the working directory when below it), with size and modification time standing in
 * for S3's ETag so that a rewritten file is ingested again.
 */
export async function listLocalFiles(paths: readonly string[], extensions: readonly string[] = ['.parquet']): Promise<SourceObject[]> {
  const files: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => {
      throw new Error(`--local-file ${path}: no such file or directory`)
    })
    if (info.isDirectory()) files.push(...(await findFiles(path, extensions)))
    else files.push(path)
  }
  const unique = [...new Set(files.map((f) => resolve(f)))].sort()
  return Promise.all(unique.map(async (file) => {
    const info = await stat(file)
    const rel = relative(process.cwd(), file)
    const shown = rel.startsWith('..') || isAbsolute(rel) ? file : rel
    return {
      key: `local:${shown}`,
      size: info.size,
      etag: `${info.size}-${Math.trunc(info.mtimeMs)}`,
      lastModified: info.mtime,
      path: file,
    }
  }))
}

async function findFiles(dir: string, extensions: readonly string[]): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries
    .filter((e) => e.isFile() && extensions.some((ext) => e.name.toLowerCase().endsWith(ext)))
    .map((e) => join(e.parentPath, e.name))
}
