import { createHash, randomBytes } from 'node:crypto'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { S3Client } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Config } from '#src/config.ts'
import { createS3Client, type S3ClientOptions } from '#src/source/s3-client.ts'
import { downloadObject } from '#src/source/s3-download.ts'
import { describeS3Error, DownloadError, ObjectChangedError } from '#src/source/s3-errors.ts'
import { headObject, isIngestibleKey, listObjects, type RemoteObject } from '#src/source/s3-listing.ts'
import { startS3Server, type S3TestServer } from '../support/s3-server.ts'

const PREFIX = 'raw/twap_statuses/'
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

let server: S3TestServer
let s3: Config['s3']
let client: S3Client
let dir: string

beforeAll(async () => {
  server = await startS3Server({ bucket: 'artemis-test' })
  s3 = { region: 'us-east-1', bucket: server.bucket, prefix: PREFIX, requestPayer: 'requester', endpoint: server.endpoint, forcePathStyle: true }
  client = createS3Client(s3, { credentials })
})
afterAll(async () => {
  client.destroy()
  await server.close()
})
beforeEach(async () => {
  server.reset()
  dir = await mkdtemp(join(tmpdir(), 's3-test-'))
})
afterEach(async () => {
  vi.unstubAllEnvs()
  await rm(dir, { recursive: true, force: true })
})

async function collect(iterable: AsyncIterable<RemoteObject>): Promise<RemoteObject[]> {
  const out: RemoteObject[] = []
  for await (const item of iterable) out.push(item)
  return out
}

/** Puts an object and returns what a listing would say about it. */
function put(key: string, body: Buffer | string): RemoteObject {
  const etag = server.putObject(key, body)
  return { key, size: Buffer.byteLength(body), etag: etag.slice(1, -1), lastModified: new Date() }
}

function md5(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex')
}

function clientWith(options: S3ClientOptions): S3Client {
  return createS3Client(s3, { credentials, ...options })
}

describe('listObjects', () => {
  it('pages through 2,350 keys in three requests, each key once, in byte order', async () => {
    const keys = Array.from({ length: 2350 }, (_, i) => `${PREFIX}hourly/2025/11/${String(i).padStart(5, '0')}.parquet`)
    for (const key of [...keys].reverse()) server.putObject(key, 'x')
    server.putObject('raw/other/outside.parquet', 'x')

    const listed = await collect(listObjects(client, s3))

    expect(listed.map((o) => o.key)).toEqual(keys)
    expect(server.count('list')).toBe(3)
    expect(server.requests.every((r) => r.requestPayer === 'requester')).toBe(true)
  })

  it('orders keys by UTF-8 bytes, as S3 does, and keeps odd characters intact', async () => {
    const keys = [`${PREFIX}a b&c<d>.parquet`, `${PREFIX}z.parquet`, `${PREFIX}\uFF21.parquet`, `${PREFIX}\u{1F600}.parquet`]
    for (const key of keys) server.putObject(key, 'x')

    const listed = await collect(listObjects(client, s3))

    expect(listed.map((o) => o.key)).toEqual(keys)
  })

  it('reports size, unquoted ETag and LastModified that HeadObject agrees with', async () => {
    const etag = server.putObject(`${PREFIX}one.parquet`, 'hello', { lastModified: new Date('2025-11-03T12:30:00.123Z') })

    const [listed] = await collect(listObjects(client, s3))
    const head = await headObject(client, s3, `${PREFIX}one.parquet`)

    expect(listed).toEqual({ key: `${PREFIX}one.parquet`, size: 5, etag: etag.slice(1, -1), lastModified: new Date('2025-11-03T12:30:00Z') })
    expect(head).toEqual(listed)
  })

  it('lists only the prefix asked for', async () => {
    server.putObject(`${PREFIX}2025/a.parquet`, 'x')
    server.putObject(`${PREFIX}2026/b.parquet`, 'x')

    const listed = await collect(listObjects(client, s3, { prefix: `${PREFIX}2026/` }))

    expect(listed.map((o) => o.key)).toEqual([`${PREFIX}2026/b.parquet`])
  })

  it('leaves markers, folder keys and empty objects to isIngestibleKey', async () => {
    const objects: [string, string][] = [
      [`${PREFIX}hourly/2025/11/03/12/`, ''],
      [`${PREFIX}hourly/2025/11/03/12/_SUCCESS`, ''],
      [`${PREFIX}hourly/2025/11/03/12/_metadata`, 'meta'],
      [`${PREFIX}hourly/2025/11/03/12/_common_metadata`, 'meta'],
      [`${PREFIX}hourly/2025/11/03/12/.part-0.parquet.crc`, 'crc'],
      [`${PREFIX}hourly/2025/11/03/12/empty.parquet`, ''],
      [`${PREFIX}hourly/2025/11/03/12/part-0.parquet`, 'PAR1'],
      [`${PREFIX}hourly/2025/11/03/12/PART-1.PARQUET`, 'PAR1'],
    ]
    for (const [key, body] of objects) server.putObject(key, body)

    const ingestible = (await collect(listObjects(client, s3))).filter((o) => isIngestibleKey(o.key, o.size))

    expect(ingestible.map((o) => o.key.split('/').pop())).toEqual(['PART-1.PARQUET', 'part-0.parquet'])
  })
})

describe('requester pays', () => {
  it('sends x-amz-request-payer: requester on list, head and get', async () => {
    const object = put(`${PREFIX}a.parquet`, 'PAR1data')

    await collect(listObjects(client, s3))
    await headObject(client, s3, object.key)
    await downloadObject(client, s3, object, join(dir, 'a.parquet'))

    expect(server.requests.map((r) => r.op)).toEqual(['list', 'head', 'get'])
    expect(server.requests.map((r) => r.requestPayer)).toEqual(['requester', 'requester', 'requester'])
  })

  it.each(['', 'none'])('refuses a client whose request payer is %j with a clear AccessDenied', async (requestPayer) => {
    put(`${PREFIX}a.parquet`, 'x')
    const config = { ...s3, requestPayer }
    const other = createS3Client(config, { credentials })

    const err = await collect(listObjects(other, config)).catch((e: unknown) => e)

    expect((err as Error).name).toBe('AccessDenied')
    expect(describeS3Error(err)).toMatch(/^AccessDenied: .*AWS_REQUEST_PAYER/)
    other.destroy()
  })
})

describe('describeS3Error', () => {
  it('names a missing key and a missing bucket', async () => {
    const missingKey = await headObject(client, s3, `${PREFIX}gone.parquet`).catch((e: unknown) => e)
    const wrongBucket = { ...s3, bucket: 'no-such-bucket' }
    const missingBucket = await collect(listObjects(client, wrongBucket)).catch((e: unknown) => e)

    expect(describeS3Error(missingKey)).toMatch(/^NoSuchKey: /)
    expect(describeS3Error(missingBucket)).toMatch(/^NoSuchBucket: bucket "no-such-bucket" does not exist/)
  })

  it('says so when no credentials are configured anywhere', async () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE',
      'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI']) vi.stubEnv(name, undefined)
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'none'))
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'none'))
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
    const anonymous = createS3Client(s3)

    const err = await collect(listObjects(anonymous, s3)).catch((e: unknown) => e)

    expect(describeS3Error(err)).toBe('no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)')
    expect(server.count('list')).toBe(0)
    anonymous.destroy()
  })
})

describe('downloadObject', () => {
  const body = randomBytes(256 * 1024)

  it('retries two 503 SlowDown answers and then writes the object', async () => {
    const object = put(`${PREFIX}slow.parquet`, body)
    server.injectFault({ op: 'get', key: object.key, kind: 'slowdown-503', times: 2 })

    await downloadObject(client, s3, object, join(dir, 'slow.parquet'))

    expect(md5(await readFile(join(dir, 'slow.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(3)
  })

  it('retries a connection reset before the response', async () => {
    const object = put(`${PREFIX}reset.parquet`, body)
    server.injectFault({ op: 'get', kind: 'reset', times: 1 })

    await downloadObject(client, s3, object, join(dir, 'reset.parquet'))

    expect(md5(await readFile(join(dir, 'reset.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(2)
  })

  it('resumes a body cut off half-way with a Range request and ends with the exact bytes', async () => {
    const object = put(`${PREFIX}cut.parquet`, body)
    server.injectFault({ op: 'get', kind: 'truncate', times: 1 })
    let reported = 0

    await downloadObject(client, s3, object, join(dir, 'cut.parquet'), { onBytes: (n) => (reported += n) })

    expect(md5(await readFile(join(dir, 'cut.parquet')))).toBe(object.etag)
    const [first, second] = server.requests
    expect(first?.range).toBeUndefined()
    expect(second?.range).toMatch(/^bytes=[1-9]\d*-$/)
    expect(second?.status).toBe(206)
    expect(reported).toBe(body.length)
  })

  it('gives up on a stalled body after the idle timeout and resumes it', async () => {
    const object = put(`${PREFIX}stall.parquet`, body)
    server.injectFault({ op: 'get', kind: 'stall', times: 1 })
    const impatient = clientWith({ timeouts: { idleMs: 300 } })

    await downloadObject(impatient, s3, object, join(dir, 'stall.parquet'))

    expect(md5(await readFile(join(dir, 'stall.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(2)
    impatient.destroy()
  })

  it('retries a request whose answer does not come in time', async () => {
    const object = put(`${PREFIX}late.parquet`, body)
    server.injectFault({ op: 'get', kind: 'delay', delayMs: 2_000, times: 1 })
    const impatient = clientWith({ timeouts: { requestMs: 300 } })

    await downloadObject(impatient, s3, object, join(dir, 'late.parquet'))

    expect(md5(await readFile(join(dir, 'late.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(2)
    impatient.destroy()
  })

  it('fails with the object named once the fault outlasts the attempts, leaving no file', async () => {
    const object = put(`${PREFIX}broken.parquet`, body)
    server.injectFault({ op: 'get', kind: 'truncate', times: 100 })
    const dest = join(dir, 'broken.parquet')

    const err = await downloadObject(client, s3, object, dest, { attempts: 3 }).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(DownloadError)
    expect(describeS3Error(err)).toMatch(/^download of s3:\/\/artemis-test\/raw\/twap_statuses\/broken\.parquet failed after 3 attempt/)
    expect(server.count('get')).toBe(3)
    expect(existsSync(dest)).toBe(false)
  })

  it('gives up after the SDK attempts times its own when S3 keeps answering 500', async () => {
    const object = put(`${PREFIX}down.parquet`, body)
    server.injectFault({ op: 'get', kind: 'internal-500', times: 100 })
    const brief = clientWith({ maxAttempts: 2 })

    const err = await downloadObject(brief, s3, object, join(dir, 'down.parquet'), { attempts: 2 }).catch((e: unknown) => e)

    expect(describeS3Error(err)).toMatch(/failed after 2 attempt\(s\): InternalError/)
    expect(server.count('get')).toBe(4)
    brief.destroy()
  })

  it('refuses an object rewritten since it was listed, without retrying', async () => {
    const object = put(`${PREFIX}rewritten.parquet`, body)
    server.putObject(object.key, 'a new version')

    const err = await downloadObject(client, s3, object, join(dir, 'rewritten.parquet')).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(ObjectChangedError)
    expect(describeS3Error(err)).toMatch(/rewritten\.parquet changed since it was listed/)
    expect(server.count('get')).toBe(1)
  })

  it('refuses to resume when the object is rewritten mid-download', async () => {
    const object = put(`${PREFIX}midway.parquet`, body)
    server.injectFault({ op: 'get', kind: 'truncate', times: 1 })
    let rewritten = false

    const err = await downloadObject(client, s3, object, join(dir, 'midway.parquet'), {
      onBytes: () => {
        if (!rewritten) server.putObject(object.key, randomBytes(body.length))
        rewritten = true
      },
    }).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(ObjectChangedError)
    expect(server.count('get')).toBe(2)
  })

  it.each([['with', true], ['without', false]])('never keeps a bit-flipped body %s a checksum header: it downloads the object again from its first byte', async (_, checksum) => {
    const etag = server.putObject(`${PREFIX}flip.parquet`, body, { checksum })
    const object = { key: `${PREFIX}flip.parquet`, size: body.length, etag: etag.slice(1, -1) }
    server.injectFault({ op: 'get', kind: 'bitflip', times: 2 })

    await downloadObject(client, s3, object, join(dir, 'flip.parquet'))

    expect(md5(await readFile(join(dir, 'flip.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(3)
    expect(server.requests.map((r) => r.range)).toEqual([undefined, undefined, undefined])
  })

  it('fails an object whose body keeps failing its checksum after the attempts, leaving no file', async () => {
    const object = put(`${PREFIX}always-flipped.parquet`, body)
    server.injectFault({ op: 'get', kind: 'bitflip', times: 100 })
    const dest = join(dir, 'always-flipped.parquet')

    const err = await downloadObject(client, s3, object, dest, { attempts: 3 }).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(DownloadError)
    expect(describeS3Error(err)).toMatch(/failed after 3 attempt\(s\): CorruptBodyError: the body does not match its MD5 \(the ETag\)/)
    expect(existsSync(dest)).toBe(false)
  })

  it('checks a multipart object, whose ETag is no MD5, by the CRC32 S3 sends, and takes one without a checksum as it comes', async () => {
    const etag = server.putObject(`${PREFIX}multipart.parquet`, body, { checksum: true, parts: 3 })
    const object = { key: `${PREFIX}multipart.parquet`, size: body.length, etag: etag.slice(1, -1) }
    const plain = server.putObject(`${PREFIX}multipart-plain.parquet`, body, { parts: 2 })
    server.injectFault({ op: 'get', key: object.key, kind: 'bitflip', times: 1 })

    await downloadObject(client, s3, object, join(dir, 'multipart.parquet'))
    await downloadObject(client, s3, { key: `${PREFIX}multipart-plain.parquet`, size: body.length, etag: plain.slice(1, -1) }, join(dir, 'plain.parquet'))

    expect((await readFile(join(dir, 'multipart.parquet'))).equals(body)).toBe(true)
    expect((await readFile(join(dir, 'plain.parquet'))).equals(body)).toBe(true)
    expect(server.count('get', object.key)).toBe(2)
  })

  it('retries a body that ends cleanly but short, as the GET named the listed ETag', async () => {
    const object = put(`${PREFIX}short.parquet`, body)
    server.injectFault({ op: 'get', kind: 'short', times: 2 })

    await downloadObject(client, s3, object, join(dir, 'short.parquet'))

    expect(md5(await readFile(join(dir, 'short.parquet')))).toBe(object.etag)
    expect(server.count('get')).toBe(3)
  })

  it('streams a 20 MB object to disk while it arrives', async () => {
    const big = randomBytes(20 * 1024 * 1024)
    const object = put(`${PREFIX}big.parquet`, big)
    const dest = join(dir, 'big.parquet')
    let received = 0
    let onDiskMidway = -1
    let chunks = 0

    await downloadObject(client, s3, object, dest, {
      onBytes: (n) => {
        received += n
        chunks++
        if (onDiskMidway < 0 && received >= big.length * 0.75) onDiskMidway = statSync(dest).size
      },
    })

    expect(statSync(dest).size).toBe(big.length)
    expect(md5(await readFile(dest))).toBe(object.etag)
    expect(chunks).toBeGreaterThan(20)
    expect(onDiskMidway).toBeGreaterThan(0)
  })

  it('stops when the signal aborts and removes the partial file', async () => {
    const object = put(`${PREFIX}abort.parquet`, body)
    server.injectFault({ op: 'get', kind: 'delay', delayMs: 5_000, times: 1 })
    const dest = join(dir, 'abort.parquet')

    const err = await downloadObject(client, s3, object, dest, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e)

    expect((err as Error).name).toMatch(/Abort|Timeout/)
    expect(existsSync(dest)).toBe(false)
  })
})
