import type { FastifyPluginAsync } from 'fastify'
import type { Db } from '#src/store/db.ts'
import { sliceFillsFrom, sliceFillsLatest, twapHistoryFrom, twapHistoryLatest, type InfoRow } from '#src/store/info-queries.ts'
import { InvalidParameters } from '#src/api/plugins/app/errors.ts'
import type { ParameterError } from '#src/api/schemas/problem.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { INFO_PAGE, INFO_TYPES, InfoRequest, InfoResponse, type InfoType } from '#src/api/schemas/info.ts'

/** A request body, checked: what each request type reads. */
interface InfoQuery {
  type: InfoType
  user: string
  startTime?: number
  endTime?: number
  aggregateByTime?: boolean
}

const WALLET = /^0[xX][0-9a-fA-F]{40}$/
const BODY_LIMIT = 16 * 1024
// The latest instant PostgreSQL's timestamptz and ISO-8601 both hold.
const MAX_MILLIS = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

const FIELDS: Record<InfoType, readonly string[]> = {
  twapHistory: ['type', 'user', 'startTime', 'endTime'],
  userTwapSliceFills: ['type', 'user'],
  userTwapSliceFillsByTime: ['type', 'user', 'startTime', 'endTime', 'aggregateByTime'],
}

/**
 * `POST /info`: Hyperliquid's own info requests for TWAP history and slice fills, answered
 * in Hyperliquid's shapes over everything stored, so its SDKs work by changing their base
 * URL. Pages hold 2,000 records as on Hyperliquid, oldest first, and never split the
 * records of one time unit (a second for `twapHistory`, whose `time` is in seconds; a
 * millisecond for fills), so continuing from the last `time` plus one unit reads every
 * record exactly once.
 */
const info: FastifyPluginAsync = async (app) => {
  const { db } = app
  // Any media type is read as JSON, as Hyperliquid does: a client that forgets the header
  // still gets an answer, and malformed JSON is a 422 naming the body like any bad field.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch {
      done(new InvalidParameters([{ parameter: 'body', message: 'must be a JSON object, e.g. {"type": "twapHistory", "user": "0x…"}' }]), undefined)
    }
  })

  app.post('/info', {
    schema: {
      operationId: 'postInfo',
      summary: 'Hyperliquid info requests: TWAP history and slice fills',
      description: `Takes Hyperliquid's own request bodies for ${INFO_TYPES.join(', ')} and answers in Hyperliquid's shapes, over the whole stored history. At most ${INFO_PAGE} records a response, oldest first; a response never splits the records of one second (twapHistory) or one millisecond (fills), so a client continues with \`startTime\` = the last record's time plus one unit. \`twapHistory\` also takes \`startTime\` and \`endTime\` (ms).`,
      tags: ['hyperliquid'],
      body: InfoRequest,
      response: { 200: { description: 'The records, in Hyperliquid\'s shape for the request type.', content: { 'application/json': { schema: InfoResponse } } }, ...problemResponses(401, 422, 429, 503) },
    },
    // The body is checked below, so a wrong `type` is answered with the supported ones.
    validatorCompiler: () => (value) => ({ value }),
  }, async (request, reply) => {
    const query = checkBody(request.body)
    const rows = query.type === 'twapHistory' ? await twapHistory(db, query) : await sliceFills(db, query)
    return reply.type('application/json; charset=utf-8').send('[' + rows.map((r) => r.json).join(',') + ']')
  })
}

/** The body's fields, or InvalidParameters naming every one that is wrong. */
function checkBody(body: unknown): InfoQuery {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidParameters([{ parameter: 'body', message: 'must be a JSON object, e.g. {"type": "twapHistory", "user": "0x…"}' }])
  }
  const fields = body as Record<string, unknown>
  const type = fields.type
  if (typeof type !== 'string' || !(INFO_TYPES as readonly string[]).includes(type)) {
    const given = type === undefined ? 'is required' : `${JSON.stringify(type)} is not supported`
    throw new InvalidParameters([{ parameter: 'type', message: `${given}; this service answers ${INFO_TYPES.join(', ')}` }])
  }
  const infoType = type as InfoType
  const errors: ParameterError[] = []
  for (const name of Object.keys(fields)) {
    if (!FIELDS[infoType].includes(name)) errors.push({ parameter: name, message: `is not a field of ${infoType} (it takes ${FIELDS[infoType].join(', ')})` })
  }
  const user = fields.user
  if (user === undefined) errors.push({ parameter: 'user', message: 'is required' })
  else if (typeof user !== 'string' || !WALLET.test(user)) errors.push({ parameter: 'user', message: 'must be 0x followed by 40 hex digits' })
  const startTime = millis(fields, 'startTime', infoType === 'userTwapSliceFillsByTime', errors)
  const endTime = millis(fields, 'endTime', false, errors)
  if (startTime !== undefined && endTime !== undefined && startTime > endTime) errors.push({ parameter: 'endTime', message: 'must not be before startTime' })
  const aggregate = fields.aggregateByTime
  if (aggregate !== undefined && typeof aggregate !== 'boolean') errors.push({ parameter: 'aggregateByTime', message: 'must be true or false' })
  if (errors.length > 0) throw new InvalidParameters(errors)
  return { type: infoType, user: (user as string).toLowerCase(), startTime, endTime, aggregateByTime: aggregate as boolean | undefined }
}

/** An epoch-milliseconds field: a whole number from 0 to the year 9999; null is absent. */
function millis(fields: Record<string, unknown>, name: string, required: boolean, errors: ParameterError[]): number | undefined {
  const value = fields[name]
  if (value === undefined || value === null) {
    if (required) errors.push({ parameter: name, message: 'is required (epoch milliseconds)' })
    return undefined
  }
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > MAX_MILLIS) {
    errors.push({ parameter: name, message: 'must be a whole number of epoch milliseconds from 0 to the year 9999' })
    return undefined
  }
  return value
}

/**
 * The `twapHistory` page: the latest events, or those from `startTime` to `endTime`,
 * ending on a whole second.
 */
async function twapHistory(db: Db, query: InfoQuery): Promise<InfoRow[]> {
  if (query.startTime === undefined && query.endTime === undefined) return twapHistoryLatest(db, query.user, INFO_PAGE)
  const from = new Date(query.startTime ?? 0).toISOString()
  // endTime is inclusive, to the millisecond.
  const to = query.endTime === undefined ? 'infinity' : new Date(query.endTime + 1).toISOString()
  const rows = await twapHistoryFrom(db, query.user, from, to, INFO_PAGE + 1)
  return wholeUnits(rows, 1000, (unitStart, unitEnd) => twapHistoryFrom(db, query.user, unitStart, unitEnd, null))
}

/**
 * The slice fills page: the latest 2,000 (`userTwapSliceFills`, newest first, as
 * Hyperliquid answers it), or those from `startTime` to `endTime`, oldest first, ending on
 * a whole millisecond (`userTwapSliceFillsByTime`).
 */
async function sliceFills(db: Db, query: InfoQuery): Promise<InfoRow[]> {
  if (query.type === 'userTwapSliceFills') return sliceFillsLatest(db, query.user, INFO_PAGE)
  const from = new Date(query.startTime ?? 0).toISOString()
  const to = query.endTime === undefined ? 'infinity' : new Date(query.endTime + 1).toISOString()
  const aggregate = query.aggregateByTime === true
  const rows = await sliceFillsFrom(db, query.user, from, to, INFO_PAGE + 1, aggregate)
  return wholeUnits(rows, 1, (unitStart, unitEnd) => sliceFillsFrom(db, query.user, unitStart, unitEnd, null, aggregate))
}

/**
 * Trims a page read with one row more than `INFO_PAGE` so that it ends on a whole time
 * unit of `unitMs`: the rows of the unit the page would cut are left for the next request.
 * When a single unit holds more rows than a page, that unit is answered whole (`readUnit`),
 * or a client could never get past it.
 */
async function wholeUnits(rows: InfoRow[], unitMs: number, readUnit: (from: string, to: string) => Promise<InfoRow[]>): Promise<InfoRow[]> {
  if (rows.length <= INFO_PAGE) return rows
  const unit = (row: InfoRow) => BigInt(row.time_ms) / BigInt(unitMs)
  const cut = unit(rows[INFO_PAGE] as InfoRow)
  let end = INFO_PAGE
  while (end > 0 && unit(rows[end - 1] as InfoRow) === cut) end--
  if (end > 0) return rows.slice(0, end)
  const startMs = Number(cut * BigInt(unitMs))
  return readUnit(new Date(startMs).toISOString(), new Date(startMs + unitMs).toISOString())
}

export default info
