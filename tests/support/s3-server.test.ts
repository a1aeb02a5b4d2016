import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startS3Server, type S3TestServer } from './s3-server.ts'

// The test double itself: what the other tests rely on it to do as S3 does.
let server: S3TestServer
let client: S3Client

beforeAll(async () => {
  server = await startS3Server({ bucket: 'artemis-test' })
  client = new S3Client({ region: 'us-east-1', endpoint: server.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })
})
afterAll(async () => {
  client.destroy()
  await server.close()
})
beforeEach(() => server.reset())

describe('test S3 server', () => {
  it('serves byte ranges with 206 and Content-Range', async () => {
    server.putObject('r.bin', '0123456789abcdefghij')

    const middle = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'r.bin', Range: 'bytes=10-14', RequestPayer: 'requester' }))
    const tail = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'r.bin', Range: 'bytes=-3', RequestPayer: 'requester' }))

    expect(middle.$metadata.httpStatusCode).toBe(206)
    expect(middle.ContentRange).toBe('bytes 10-14/20')
    expect(await middle.Body?.transformToString()).toBe('abcde')
    expect(await tail.Body?.transformToString()).toBe('hij')
  })

  it('caps a page at 1,000 keys whatever max-keys asks', async () => {
    for (let i = 0; i < 1200; i++) server.putObject(`k/${String(i).padStart(4, '0')}`, 'x')

    const res = await fetch(`${server.endpoint}/${server.bucket}?list-type=2&max-keys=5000`, { headers: { 'x-amz-request-payer': 'requester' } })
    const xml = await res.text()

    expect(xml).toContain('<KeyCount>1000</KeyCount>')
    expect(xml).toContain('<IsTruncated>true</IsTruncated>')
  })

  it('answers 403 AccessDenied XML to a request without the requester-pays header', async () => {
    server.putObject('k', 'x')

    const res = await fetch(`${server.endpoint}/${server.bucket}/k`)

    expect(res.status).toBe(403)
    expect(await res.text()).toContain('<Code>AccessDenied</Code>')
  })
})
