import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { positionOf, twapPage, type PagePosition, type TwapRange } from '#src/store/twap-queries.ts'
import { decodeCursor, encodeCursor } from '#src/api/cursor.ts'
import { openExport } from '#src/api/export.ts'
import { InvalidParameters } from '#src/api/plugins/app/errors.ts'
import { boundedExport } from '#src/api/plugins/app/export-slots.ts'
import { RANGE_RULE, parseTimeRange, rangeBounds, rangeFilePart, type TimeRange } from '#src/api/range.ts'
import { markExport, rangeCoverage } from '#src/api/range-coverage.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { DEFAULT_LIMIT, MAX_LIMIT, TwapsPage, TwapsQuery } from '#src/api/schemas/twaps.ts'
import type { ParameterError } from '#src/api/schemas/problem.ts'
import { toTwaps } from '#src/api/twap-json.ts'
import { RawTexts, sendJsonWithRaw } from '#src/api/raw-json.ts'
import { formatFromAccept, MEDIA_TYPES } from '#src/api/media-types.ts'
import { isTaxFormat, openTwapTaxExport } from '#src/api/tax/index.ts'
import { isCsvSafe } from '#src/api/csv-safe.ts'
import { fillsInRange } from '#src/store/tax-queries.ts'

/**
 * `GET /api/v1/twaps`: a wallet's TWAPs in a time range, newest first, each summarised by
 * its latest event in the range; a page as JSON, or the whole range streamed as CSV or
 * NDJSON. Closing the app lets exports in flight finish: Fastify's close waits for open
 * responses before the caller closes the database.
 */
const twaps: FastifyPluginAsyncTypebox = async (app) => {
  const { db, cursorKey } = app
  app.get('', {
    schema: {
      operationId: 'listTwaps',
      summary: 'A wallet\'s TWAPs in a time range',
      description: `Rows of the wallet with start ≤ ts ≤ end (and the asset), grouped by TWAP; each TWAP is its latest row in the range (on equal times the terminal status wins); TWAPs newest first, \`limit\` to a page, \`next_cursor\` to the next. ${RANGE_RULE} With \`format=csv\` or \`format=ndjson\` (or the matching Accept header) the whole range is streamed: NDJSON one TWAP a line (with its \`events\` when latest_per_twap=false), CSV one TWAP a line, or with latest_per_twap=false one event a line with its TWAP's columns repeated. Unknown parameters answer 422.`,
      tags: ['twaps'],
      querystring: TwapsQuery,
      response: {
        200: {
          description: 'A page of TWAPs, or the export.',
          headers: {
            'Content-Disposition': {
              type: 'string',
              description: 'Exports only: `attachment; filename="twaps_<wallet>_<start>_<end>.<format>"`, naming the range served (`20250101_20251231` for whole days, the last one included), with `_incomplete` before the extension when an hour of the range has no status data or a status object is failing.',
            },
            'X-Coverage-Complete': {
              type: 'string',
              description: 'Exports only: `true` when every hour of the range is covered by the status data, else `false`.',
            },
          },
          content: {
            'application/json': { schema: TwapsPage },
            'text/csv': { schema: { type: 'string', description: 'Header row, then one line per TWAP, or per event with latest_per_twap=false.' } },
            'application/x-ndjson': { schema: { type: 'string', description: 'One JSON TWAP a line, as in the JSON page.' } },
          },
        },
        ...problemResponses(401, 422, 429, 503),
      },
    },
  }, async (request, reply) => {
    const query = request.query
    const { range, after, served, limit } = resolveQuery(query, query.cursor === undefined ? '' : await cursorKey())
    const withEvents = query.latest_per_twap === 'false' || query.latest_per_twap === '0'
    const format = query.format ?? formatFromAccept(request.headers.accept)

    if (isTaxFormat(format)) {
      // A range with fills is exported from them, with fees and PnL; TWAP statuses stand in only where there are none.
      if (await fillsInRange(db, range)) {
        throw new InvalidParameters([{ parameter: 'format', message: `fills are loaded for this range: export them with /api/v1/fills?format=${format}` }])
      }
      const coverage = await rangeCoverage(db, served, request)
      const stream = await boundedExport(request, () => openTwapTaxExport(db, range, format, isCsvSafe(query.csv_safe)))
      const filename = markExport(reply, coverage.statuses.complete, `twaps_${range.wallet}_${rangeFilePart(served)}_${format}`, 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(stream as unknown as string)
    }
    if (format !== 'json') {
      const coverage = await rangeCoverage(db, served, request)
      const stream = await boundedExport(request, () => openExport(db, range, after, format, withEvents, isCsvSafe(query.csv_safe)))
      const filename = markExport(reply, coverage.statuses.complete, `twaps_${range.wallet}_${rangeFilePart(served)}`, format)
      return reply
        .type(`${MEDIA_TYPES[format]}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="${filename}"`)
        // The type provider types bodies by the response schemas; a stream is sent as it is.
        .send(stream as unknown as string)
    }

    const [rows, coverage] = await Promise.all([twapPage(db, range, after, limit + 1), rangeCoverage(db, served, request)])
    const more = rows.length > limit
    if (more) rows.length = limit
    const last = rows[rows.length - 1]
    const raws = new RawTexts()
    const page: TwapsPage = {
      wallet: range.wallet,
      start: range.start,
      end: range.end,
      twaps: await toTwaps(db, range, rows, withEvents, raws),
      next_cursor: more && last ? encodeCursor(positionOf(last), range, await cursorKey()) : null,
      coverage,
    }
    return sendJsonWithRaw(reply, page, raws)
  })
}

export default twaps

/**
 * The checks no schema can make: `start` not after the range's end, and a cursor issued
 * for this same query. Throws `InvalidParameters` naming each failure.
 */
function resolveQuery(query: TwapsQuery, cursorKey: string): { range: TwapRange; after: PagePosition | null; served: TimeRange; limit: number } {
  const errors: ParameterError[] = []
  const limit = query.limit ?? DEFAULT_LIMIT
  // Ajv's type coercion lets `limit=1e400` through as Infinity, past the schema's maximum.
  if (!Number.isSafeInteger(limit) || limit > MAX_LIMIT) errors.push({ parameter: 'limit', message: `must be an integer from 1 to ${MAX_LIMIT}` })
  const parsed = parseTimeRange(query)
  errors.push(...parsed.errors)
  if (!parsed.range) throw new InvalidParameters(errors)
  const range: TwapRange = { wallet: query.wallet.toLowerCase(), ...rangeBounds(parsed.range), asset: query.asset ?? null }
  let after: PagePosition | null = null
  if (query.cursor !== undefined) {
    after = decodeCursor(query.cursor, range, cursorKey)
    if (!after) errors.push({ parameter: 'cursor', message: 'must be the next_cursor of a previous page of this same query (wallet, start, end, asset)' })
  }
  if (errors.length > 0) throw new InvalidParameters(errors)
  return { range, after, served: parsed.range, limit }
}
