import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { keyPath, listLocalFiles } from '#src/source/local.ts'
import { hoursOfKey } from '#src/source/key-hours.ts'

describe('Local files as source objects', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hltwap-local-'))
    for (const sub of ['a/2025/11/03', 'b/2025/11/03']) {
      await mkdir(join(dir, sub), { recursive: true })
      await writeFile(join(dir, sub, 'part-0.parquet'), sub)
    }
    await writeFile(join(dir, 'a', 'notes.txt'), 'not data')
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  const hashed = /^local:[0-9a-f]{8}\//

  it('keys a file given by its name and a file found in a directory by the path below it, never by a path above', async () => {
    const [file] = await listLocalFiles([join(dir, 'a/2025/11/03/part-0.parquet')])
    expect(file!.key).toMatch(/^local:[0-9a-f]{8}\/part-0\.parquet$/)
    expect(file!.path).toBe(join(dir, 'a/2025/11/03/part-0.parquet'))
    const [found, ...rest] = await listLocalFiles([join(dir, 'a')])
    expect(rest).toEqual([])
    expect(found!.key).toMatch(/^local:[0-9a-f]{8}\/2025\/11\/03\/part-0\.parquet$/)
    expect(found!.key).not.toContain(dir)
    // The date below the directory still says which hours the file holds.
    expect(hoursOfKey(keyPath(found!.key))).toEqual({ start: Date.parse('2025-11-03T00:00:00Z'), count: 24 })
  })

  it('gives two files of the same name in different places different keys, and one file the same key from any working directory', async () => {
    const [a] = await listLocalFiles([join(dir, 'a')])
    const [b] = await listLocalFiles([join(dir, 'b')])
    expect(a!.key.replace(hashed, '')).toBe(b!.key.replace(hashed, ''))
    expect(a!.key).not.toBe(b!.key)
    const cwd = process.cwd()
    try {
      process.chdir(join(dir, 'b'))
      const [again] = await listLocalFiles(['.'])
      expect(again!.key).toBe(b!.key)
      const [viaRelative] = await listLocalFiles([relative(process.cwd(), join(dir, 'a'))])
      expect(viaRelative!.key).toBe(a!.key)
    } finally {
      process.chdir(cwd)
    }
  })

  it('reads the path of a key without its hash, even a hash of digits only, and the path of an older key as it is', () => {
    expect(keyPath('local:20251103/6.lz4')).toBe('6.lz4')
    expect(hoursOfKey(keyPath('local:20251103/6.lz4'))).toBeNull()
    expect(keyPath('local:data/2025/11/03/x.parquet')).toBe('data/2025/11/03/x.parquet')
    expect(keyPath('raw/2025/11/03/x.parquet')).toBe('raw/2025/11/03/x.parquet')
  })
})
