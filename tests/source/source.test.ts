import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { Config } from '#src/config.ts'
import { LocalSource } from '#src/source/local.ts'
import { createS3Client } from '#src/source/s3-client.ts'
import { estimateCost } from '#src/source/s3-cost.ts'
import { S3Source, type S3Selection } from '#src/source/s3.ts'
import { NotIngestibleError, type Source } from '#src/source/source.ts'
import { memoryLogger } from '../support/log.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

const PREFIX = 'raw/twap_statuses/'
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

/** Reads every object a source lists through `open`, as the ETL does, and gives the bytes back. */
async function readAll(source: Source, extensions: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const object of await source.list(extensions)) {
    const opened = await source.open(object, () => {})
    out.set(object.key, await readFile(opened.path, 'utf8'))
    await opened.release()
  }
  return out
}

describe('the S3 source', () => {
  let server: S3TestServer
  let s3: Config['s3']
  const clients: ReturnType<typeof createS3Client>[] = []
  const client = (options = {}) => {
    clients.push(createS3Client(s3, { credentials, ...options }))
    return clients.at(-1)!
  }
  const source = (selection: S3Selection) => new S3Source({ config: s3, selection, client: client(), prefixVariable: 'AWS_S3_PREFIX', logger: memoryLogger().logger })

  beforeAll(async () => {
    server = await startS3Server({ bucket: 'source-test' })
    s3 = { region: 'us-east-1', bucket: server.bucket, prefix: PREFIX, requestPayer: 'requester', endpoint: server.endpoint, forcePathStyle: true }
  })
  afterAll(async () => {
    for (const c of clients) c.destroy()
    await server.close()
  })
  beforeEach(() => server.reset())

  it('lists every page, keeps only the files asked for, prices what it listed and downloads each object to a file that release removes', async () => {
    for (let i = 0; i < 1203; i++) server.putObject(`${PREFIX}2025/${String(i).padStart(4, '0')}.parquet`, `object ${i}`)
    server.putObject(`${PREFIX}_SUCCESS`, 'marker')
    server.putObject(`${PREFIX}notes.txt`, 'not data')
    const bucket = source({})
    const objects = await bucket.list(['.parquet'])
    expect(objects).toHaveLength(1203)
    expect(server.count('list')).toBe(2)
    expect(bucket.cost(10, 5e9)).toEqual(estimateCost(2, 10, 5e9))

    let bytes = 0
    const opened = await bucket.open(objects[7]!, (n) => (bytes += n))
    expect(await readFile(opened.path, 'utf8')).toBe('object 7')
    expect(bytes).toBe('object 7'.length)
    await opened.release()
    expect(existsSync(opened.path)).toBe(false)
    const dir = dirname(opened.path)
    expect(existsSync(dir)).toBe(true)
    await bucket.close()
    expect(existsSync(dir)).toBe(false)
  })

  it('leaves out objects modified before `since`', async () => {
    server.putObject(`${PREFIX}old.parquet`, 'old', { lastModified: new Date('2025-01-01T00:00:00Z') })
    server.putObject(`${PREFIX}new.parquet`, 'new', { lastModified: new Date('2025-06-01T00:00:00Z') })
    const bucket = source({ since: new Date('2025-03-01T00:00:00Z') })
    expect((await bucket.list(['.parquet'])).map((o) => o.key)).toEqual([`${PREFIX}new.parquet`])
    await bucket.close()
  })

  it('reads one object by its key without listing, and refuses a key of another kind or one that does not exist, saying which', async () => {
    server.putObject(`${PREFIX}one.parquet`, 'one')
    server.putObject(`${PREFIX}one.csv`, 'csv')
    const one = source({ key: `${PREFIX}one.parquet` })
    expect(await readAll(one, ['.parquet'])).toEqual(new Map([[`${PREFIX}one.parquet`, 'one']]))
    expect(server.count('list')).toBe(0)
    expect(one.cost(1, 3)).toEqual(estimateCost(0, 1, 3))
    await one.close()

    const other = source({ key: `${PREFIX}one.csv` })
    const refused = await other.list(['.parquet']).catch((err: unknown) => err)
    expect(refused).toBeInstanceOf(NotIngestibleError)
    expect((refused as NotIngestibleError).key).toBe(`${PREFIX}one.csv`)
    await other.close()

    const missing = source({ key: 'one.parquet' })
    await expect(missing.list(['.parquet'])).rejects.toThrow(/no such object \(--object-key takes the whole key, AWS_S3_PREFIX included\)/)
    await missing.close()
  })

  it('says which download failed and leaves no partial file', async () => {
    server.putObject(`${PREFIX}broken.parquet`, 'x'.repeat(4096))
    server.injectFault({ op: 'get', kind: 'internal-500', times: 100 })
    const bucket = new S3Source({ config: s3, selection: {}, client: client({ maxAttempts: 1 }), prefixVariable: 'AWS_S3_PREFIX', logger: memoryLogger().logger })
    const [object] = await bucket.list(['.parquet'])
    await expect(bucket.open(object!, () => {})).rejects.toThrow(/^download failed: /)
    const dirs = (await readdir(tmpdir())).filter((name) => name.startsWith(`hl-twap-${process.pid}-`))
    expect(dirs.length).toBeGreaterThan(0)
    for (const name of dirs) expect(await readdir(join(tmpdir(), name)), name).toEqual([])
    await bucket.close()
  })
})

describe('the local source', () => {
  let dir: string
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'local-source-'))
  })
  afterEach(() => rm(dir, { recursive: true, force: true }))

  it('opens each listed file where it is, costs nothing, and keeps the files when released', async () => {
    await writeFile(join(dir, 'a.parquet'), 'a')
    await writeFile(join(dir, 'b.lz4'), 'b')
    await writeFile(join(dir, 'c.txt'), 'c')
    const local = new LocalSource([dir])
    const read = await readAll(local, ['.parquet', '.lz4'])
    expect([...read.values()].sort()).toEqual(['a', 'b'])
    expect(existsSync(join(dir, 'a.parquet'))).toBe(true)
    expect(local.cost()).toEqual({ listRequests: 0, getRequests: 0, bytes: 0, usd: 0 })
    await expect(local.open({ key: 'local:unknown', size: 1, etag: null, lastModified: new Date() })).rejects.toThrow(/was not listed/)
    await local.close()
  })
})
