import { createHash, randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { listenLoopback } from './loopback.ts'
import { crc32 } from 'node:zlib'
import { mulberry32 } from '#src/sample.ts'

// A hand-written server rather than a package (MinIO, s3rver, moto): none of them can
// enforce requester-pays or break a response body half-way, which is what the tests need.

/** The S3 operation a request was recognised as; `other` is answered 501. */
export type S3Op = 'list' | 'head' | 'get' | 'other'

/** One request as the server saw it, kept in `server.requests` for assertions. */
export interface LoggedRequest {
  method: string
  op: S3Op
  /** The object key; for a listing, the `prefix` parameter. */
  key: string
  /** The `x-amz-request-payer` header, undefined when absent. */
  requestPayer: string | undefined
  /** The `Range` header of a GET, undefined when absent. */
  range: string | undefined
  /** HTTP status sent; 0 when the socket was destroyed before any response. */
  status: number
  /** When the request arrived (`Date.now()`), to check backoff between attempts. */
  at: number
}

/**
 * A failure the server plays for the next `times` matching requests.
 * `slowdown-503` / `internal-500` answer S3 error XML; `reset` destroys the socket before
 * answering; `truncate` sends the headers with the full Content-Length, half the body,
 * then destroys the socket; `stall` sends half the body and then nothing, leaving the
 * connection open (a hung transfer); `delay` waits `delayMs` and then answers normally;
 * `short` announces and sends only half the body, then ends the answer cleanly (a proxy that
 * cut it); `bitflip` sends the whole body with one bit flipped, checksum headers unchanged.
 */
export interface Fault {
  op: 'list' | 'head' | 'get'
  /** Matches the object key (for `list`, the prefix); omitted matches every request. */
  key?: string | RegExp
  kind: 'slowdown-503' | 'internal-500' | 'reset' | 'truncate' | 'stall' | 'delay' | 'short' | 'bitflip'
  times: number
  delayMs?: number
}

/** The handle `startS3Server` returns. */
export interface S3TestServer {
  /** `http://127.0.0.1:<port>`, for the client's `endpoint` with `forcePathStyle`. */
  endpoint: string
  bucket: string
  /** Every request since start or the last `reset()`, oldest first. */
  requests: LoggedRequest[]
  /**
   * Stores (or replaces) an object; returns its ETag: quoted md5, or with `parts` a multipart
   * ETag (`"…-N"`, no md5 of the body). With `checksum` the object has a CRC32 that a GET
   * asking for checksums (`x-amz-checksum-mode: ENABLED`) of the whole object is sent.
   */
  putObject(key: string, body: Uint8Array | string, options?: { lastModified?: Date; checksum?: boolean; parts?: number }): string
  /** Faults played on a share of matching requests, chosen by a seeded generator (deterministic). */
  injectRandomFaults(options: { op: 'get'; rate: number; kinds: Fault['kind'][]; seed: number; delayMs?: number }): void
  deleteObject(key: string): void
  injectFault(fault: Fault): void
  /** Requests of that op (optionally for one key) seen so far. */
  count(op: S3Op, key?: string): number
  /** Forgets objects, faults and logged requests. */
  reset(): void
  close(): Promise<void>
}

interface StoredObject {
  body: Buffer
  etag: string
  lastModified: Date
  /** Base64 CRC32 of the body, when stored with one. */
  crc32?: string
}

interface Reply {
  status: number
  headers: Record<string, string | number>
  body: Buffer
  /** Content-Length when it is not the body's (a HEAD reply announces the object's size). */
  length?: number
}

const MAX_KEYS = 1000

/**
 * Starts an in-memory S3 endpoint on 127.0.0.1 (random port) that behaves like one
 * requester-pays bucket: ListObjectsV2, HeadObject and GetObject (with Range), path-style
 * only, any signature accepted, and every request without `x-amz-request-payer: requester`
 * refused with 403 AccessDenied. It exists so the S3 code can be tested through the real
 * AWS SDK over real HTTP, including the failures a long download meets.
 */
export async function startS3Server(options: { bucket: string }): Promise<S3TestServer> {
  const { bucket } = options
  const objects = new Map<string, StoredObject>()
  let sortedKeys: string[] | null = null
  let faults: (Fault & { remaining: number })[] = []
  const requests: LoggedRequest[] = []
  const timers = new Set<NodeJS.Timeout>()

  // S3 orders keys by their UTF-8 bytes, which differs from JS string order for
  // characters outside the BMP. Sorted lazily, once per change, so listing stays O(page).
  const keysInOrder = (): string[] => {
    sortedKeys ??= [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
    return sortedKeys
  }
  /** Index of the first key ≥ `bound` (`inclusive`) or > `bound` in byte order. */
  const lowerBound = (keys: string[], bound: string, inclusive: boolean): number => {
    const target = Buffer.from(bound)
    let lo = 0
    let hi = keys.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const cmp = Buffer.compare(Buffer.from(keys[mid]!), target)
      if (cmp < 0 || (cmp === 0 && !inclusive)) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  const list = (query: URLSearchParams): Reply => {
    const prefix = query.get('prefix') ?? ''
    const token = query.get('continuation-token')
    const startAfter = query.get('start-after') ?? ''
    const requested = Number(query.get('max-keys') ?? MAX_KEYS)
    const maxKeys = Number.isInteger(requested) && requested >= 0 ? Math.min(requested, MAX_KEYS) : MAX_KEYS
    let after = startAfter
    if (token !== null) {
      after = Buffer.from(token, 'base64url').toString('utf8')
      if (token === '' || Buffer.from(after).toString('base64url') !== token) {
        return errorReply(400, 'InvalidArgument', 'The continuation token provided is incorrect')
      }
    }
    const keys = keysInOrder()
    let i = Math.max(lowerBound(keys, prefix, true), after ? lowerBound(keys, after, false) : 0)
    const page: string[] = []
    while (i < keys.length && keys[i]!.startsWith(prefix) && page.length < maxKeys) page.push(keys[i++]!)
    const truncated = i < keys.length && keys[i]!.startsWith(prefix) && page.length > 0
    const contents = page.map((key) => {
      const o = objects.get(key)!
      return `<Contents><Key>${xml(key)}</Key><LastModified>${o.lastModified.toISOString()}</LastModified>` +
        `<ETag>${xml(o.etag)}</ETag><Size>${o.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
    })
    const body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Name>${xml(bucket)}</Name><Prefix>${xml(prefix)}</Prefix>` +
      (token !== null ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : '') +
      (startAfter ? `<StartAfter>${xml(startAfter)}</StartAfter>` : '') +
      `<KeyCount>${page.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
      (truncated ? `<NextContinuationToken>${Buffer.from(page.at(-1)!).toString('base64url')}</NextContinuationToken>` : '') +
      contents.join('') + '</ListBucketResult>'
    return { status: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(body) }
  }

  const object = (req: IncomingMessage, key: string, isHead: boolean): Reply => {
    const o = objects.get(key)
    if (!o) return errorReply(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key })
    const ifMatch = req.headers['if-match']
    if (ifMatch !== undefined && ifMatch !== '*' && unquote(ifMatch) !== unquote(o.etag)) {
      return errorReply(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', { Condition: 'If-Match' })
    }
    const size = o.body.length
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': 'bytes',
      etag: o.etag,
      'last-modified': o.lastModified.toUTCString(),
    }
    const range = isHead ? null : parseRange(req.headers.range, size)
    if (range === 'unsatisfiable') {
      const reply = errorReply(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: req.headers.range ?? '' })
      reply.headers['content-range'] = `bytes */${size}`
      return reply
    }
    if (range) {
      headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`
      return { status: 206, headers, body: o.body.subarray(range.start, range.end + 1) }
    }
    if (o.crc32 && req.headers['x-amz-checksum-mode'] === 'ENABLED') {
      headers['x-amz-checksum-crc32'] = o.crc32
      headers['x-amz-checksum-type'] = 'FULL_OBJECT'
    }
    return { status: 200, headers, body: isHead ? Buffer.alloc(0) : o.body, length: size }
  }

  const route = (req: IncomingMessage, entry: LoggedRequest): Reply => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const path = q === -1 ? url : url.slice(0, q)
    const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1))
    const [, rawBucket = '', ...rest] = path.split('/')
    const key = decodeURIComponent(rest.join('/'))
    entry.op = req.method === 'GET' && key === '' ? 'list' : req.method === 'HEAD' && key !== '' ? 'head' : req.method === 'GET' ? 'get' : 'other'
    entry.key = entry.op === 'list' ? (query.get('prefix') ?? '') : key
    if (decodeURIComponent(rawBucket) !== bucket) {
      return errorReply(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: decodeURIComponent(rawBucket) })
    }
    if (entry.requestPayer !== 'requester') return errorReply(403, 'AccessDenied', 'Access Denied')
    if (entry.op === 'other') return errorReply(501, 'NotImplemented', `${req.method} is not implemented by the test server`)
    if (entry.op === 'list') return list(query)
    return object(req, key, entry.op === 'head')
  }

  let randomFaults: { rate: number; kinds: Fault['kind'][]; next: () => number; delayMs?: number } | undefined
  const takeFault = (entry: LoggedRequest): Fault | undefined => {
    const fault = faults.find((f) => f.op === entry.op && matches(f.key, entry.key))
    if (!fault && randomFaults && entry.op === 'get' && randomFaults.next() < randomFaults.rate) {
      const kind = randomFaults.kinds[Math.floor(randomFaults.next() * randomFaults.kinds.length)]!
      return { op: 'get', kind, times: 1, delayMs: randomFaults.delayMs }
    }
    if (!fault) return undefined
    if (--fault.remaining <= 0) faults = faults.filter((f) => f !== fault)
    return fault
  }

  const send = (req: IncomingMessage, res: ServerResponse, entry: LoggedRequest, reply: Reply, fault?: Fault): void => {
    const body = reply.body
    const headers: Record<string, string | number> = { ...reply.headers, 'content-length': reply.length ?? body.length, 'x-amz-request-id': randomUUID() }
    if (entry.requestPayer === 'requester' && reply.status < 300) headers['x-amz-request-charged'] = 'requester'
    entry.status = reply.status
    if ((fault?.kind === 'truncate' || fault?.kind === 'stall') && req.method === 'HEAD') {
      // A HEAD answer has no body to cut, so a broken one is a reset.
      entry.status = 0
      req.socket.destroy()
      return
    }
    if (fault?.kind === 'short' && req.method !== 'HEAD') {
      const half = body.subarray(0, Math.floor(body.length / 2))
      res.writeHead(reply.status, { ...headers, 'content-length': half.length })
      res.end(half)
      return
    }
    if (fault?.kind === 'bitflip' && req.method !== 'HEAD' && body.length > 0) {
      const damaged = Buffer.from(body)
      const at = Math.floor(damaged.length / 3)
      damaged[at]! ^= 0x10
      res.writeHead(reply.status, headers)
      res.end(damaged)
      return
    }
    if (fault?.kind === 'truncate' || fault?.kind === 'stall') {
      res.writeHead(reply.status, headers)
      const half = body.subarray(0, Math.floor(body.length / 2))
      // `stall` leaves the socket open: only the client's timeout can end it.
      res.write(half, () => { if (fault.kind === 'truncate') req.socket.destroy() })
      return
    }
    res.writeHead(reply.status, headers)
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  const server = await listenLoopback((req, res) => {
    req.resume()
    const payer = req.headers['x-amz-request-payer']
    const entry: LoggedRequest = {
      method: req.method ?? 'GET', op: 'other', key: '', requestPayer: Array.isArray(payer) ? payer[0] : payer, range: req.headers.range, status: 0, at: Date.now(),
    }
    requests.push(entry)
    const reply = route(req, entry)
    const fault = takeFault(entry)
    switch (fault?.kind) {
      case 'slowdown-503':
        return send(req, res, entry, errorReply(503, 'SlowDown', 'Please reduce your request rate.'))
      case 'internal-500':
        return send(req, res, entry, errorReply(500, 'InternalError', 'We encountered an internal error. Please try again.'))
      case 'reset':
        req.socket.destroy()
        return
      case 'delay': {
        const timer = setTimeout(() => {
          timers.delete(timer)
          if (!res.destroyed) send(req, res, entry, reply)
        }, fault.delayMs ?? 1000)
        timers.add(timer)
        return
      }
      default:
        return send(req, res, entry, reply, fault)
    }
  })

  return {
    endpoint: server.endpoint,
    bucket,
    requests,
    putObject(key, body, opts = {}) {
      const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
      const md5 = createHash('md5').update(bytes).digest('hex')
      const etag = opts.parts ? `"${createHash('md5').update(md5).digest('hex')}-${opts.parts}"` : `"${md5}"`
      const checksum = Buffer.alloc(4)
      checksum.writeUInt32BE(crc32(bytes) >>> 0)
      // S3 keeps whole seconds: the listing shows `.000Z` and Last-Modified has no fraction.
      const lastModified = new Date(Math.floor((opts.lastModified ?? new Date()).getTime() / 1000) * 1000)
      if (!objects.has(key)) sortedKeys = null
      objects.set(key, { body: bytes, etag, lastModified, crc32: opts.checksum ? checksum.toString('base64') : undefined })
      return etag
    },
    deleteObject(key) {
      if (objects.delete(key)) sortedKeys = null
    },
    injectFault(fault) {
      faults.push({ ...fault, remaining: fault.times })
    },
    injectRandomFaults({ rate, kinds, seed, delayMs }) {
      const next = mulberry32(seed)
      randomFaults = { rate, kinds, next, delayMs }
    },
    count(op, key) {
      return requests.filter((r) => r.op === op && (key === undefined || r.key === key)).length
    },
    reset() {
      objects.clear()
      sortedKeys = null
      faults = []
      randomFaults = undefined
      requests.length = 0
    },
    async close() {
      for (const timer of timers) clearTimeout(timer)
      await server.close()
    },
  }
}

function errorReply(status: number, code: string, message: string, extra: Record<string, string> = {}): Reply {
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${xml(v)}</${k}>`).join('')
  const body = '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${xml(message)}</Message>${fields}<RequestId>${randomUUID()}</RequestId></Error>`
  return { status, headers: { 'content-type': 'application/xml' }, body: Buffer.from(body) }
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else (or several ranges) means the whole object, as S3 does. */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  const m = header?.match(/^bytes=(\d*)-(\d*)$/)
  if (!m || (m[1] === '' && m[2] === '')) return null
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - suffix), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  if (start >= size) return 'unsatisfiable'
  if (end < start) return null
  return { start, end }
}

function matches(pattern: string | RegExp | undefined, key: string): boolean {
  if (pattern === undefined) return true
  return typeof pattern === 'string' ? pattern === key : pattern.test(key)
}

function unquote(etag: string): string {
  return etag.replace(/^W\//, '').replace(/^"|"$/g, '')
}

function xml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
}
