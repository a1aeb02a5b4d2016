import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { walletFills, type FillPosition, type FillRange } from '#src/store/fill-queries.ts'
import { decodeCursor, encodeCursor } from '#src/api/cursor.ts'
import { fillPosition, openFillExport } from '#src/api/fill-export.ts'
import { toFill } from '#src/api/fill-json.ts'
import { RawTexts, sendJsonWithRaw } from '#src/api/raw-json.ts'
import { isTaxFormat, openTaxExport } from '#src/api/tax/index.ts'
import { parseTimeRange, RANGE_RULE, rangeBounds, rangeFilePart, type TimeRange } from '#src/api/range.ts'
import { InvalidParameters } from '#src/api/plugins/app/errors.ts'
import { boundedExport } from '#src/api/plugins/app/export-slots.ts'
import { DEFAULT_FILLS_LIMIT, FillsPage, FillsQuery, MAX_FILLS_LIMIT } from '#src/api/schemas/fills.ts'
import { markExport, rangeCoverage } from '#src/api/range-coverage.ts'
import { problemResponses, type ParameterError } from '#src/api/schemas/problem.ts'
import { isCsvSafe } from '#src/api/csv-safe.ts'
import { formatFromAccept, MEDIA_TYPES } from '#src/api/media-types.ts'

/**
 * `GET /api/v1/fills`: a wallet's TWAP slice fills in a time range, newest first; a page as
 * JSON, or the whole range streamed as CSV or NDJSON.
 */
const fills: FastifyPluginAsyncTypebox = async (app) => {
  const { db, cursorKey } = app
  app.get('', {
    schema: {
      operationId: 'listFills',
      summary: 'A wallet\'s TWAP slice fills in a time range',
      description: `Fills of the wallet with start ≤ time ≤ end (and the coin, and the TWAP), newest first, \`limit\` to a page, \`next_cursor\` to the next. ${RANGE_RULE} With \`format=csv\` or \`format=ndjson\` (or the matching Accept header) the whole range is streamed, one line per fill. Unknown parameters answer 422.`,
      tags: ['fills'],
      querystring: FillsQuery,
      response: {
        200: {
          description: 'A page of fills, or the export.',
          headers: {
            'Content-Disposition': {
              type: 'string',
              description: 'Exports only: `attachment; filename="fills_<wallet>_<start>_<end>.<format>"`, or `fills_<wallet>_<start>_<end>_<format>.csv` for a tax format, naming the range served, with `_incomplete` before the extension when an hour of the range has no fill data or a fills object is failing.',
            },
            'X-Coverage-Complete': {
              type: 'string',
              description: 'Exports only: `true` when every hour of the range is covered by the fill data, else `false`.',
            },
          },
          content: {
            'application/json': { schema: FillsPage },
            'text/csv': { schema: { type: 'string', description: 'Header row, then one line per fill (in the tax formats, per fill the format takes).' } },
            'application/x-ndjson': { schema: { type: 'string', description: 'One JSON fill a line.' } },
          },
        },
        ...problemResponses(401, 422, 429, 503),
      },
    },
  }, async (request, reply) => {
    const { range, after, served, limit } = resolveFillsQuery(request.query, request.query.cursor === undefined ? '' : await cursorKey())
    const format = request.query.format ?? formatFromAccept(request.headers.accept)
    if (isTaxFormat(format)) {
      const coverage = await rangeCoverage(db, served, request)
      const stream = await boundedExport(request, () => openTaxExport(db, range, format, isCsvSafe(request.query.csv_safe)))
      const filename = markExport(reply, coverage.fills.complete, `fills_${range.wallet}_${rangeFilePart(served)}_${format}`, 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(stream as unknown as string)
    }
    if (format === 'csv' || format === 'ndjson') {
      const coverage = await rangeCoverage(db, served, request)
      const stream = await boundedExport(request, () => openFillExport(db, range, after, format, isCsvSafe(request.query.csv_safe)))
      const filename = markExport(reply, coverage.fills.complete, `fills_${range.wallet}_${rangeFilePart(served)}`, format)
      return reply
        .type(`${MEDIA_TYPES[format]}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(stream as unknown as string)
    }
    const [rows, coverage] = await Promise.all([walletFills(db, range, after, limit + 1), rangeCoverage(db, served, request)])
    const more = rows.length > limit
    if (more) rows.length = limit
    const last = rows[rows.length - 1]
    const raws = new RawTexts()
    const page: FillsPage = {
      wallet: range.wallet,
      start: range.start,
      end: range.end,
      fills: rows.map((row) => toFill(row, raws)),
      next_cursor: more && last ? encodeFillCursor(fillPosition(last), range, await cursorKey()) : null,
      coverage,
    }
    return sendJsonWithRaw(reply, page, raws)
  })
}

export default fills

// A fills cursor is the TWAP cursor's format with the fill's time and id as the position,
// bound to a scope that no TWAP query can have, so neither kind of cursor works on the other.
const scopeOf = (range: FillRange) => ({ wallet: range.wallet, start: range.start, end: range.end, asset: `fills ${JSON.stringify([range.coin, range.twapId])}` })

function encodeFillCursor(position: FillPosition, range: FillRange, key: string): string {
  return encodeCursor({ ts: position.time, isTerminal: false, id: position.id }, scopeOf(range), key)
}

function decodeFillCursor(cursor: string, range: FillRange, key: string): FillPosition | null {
  const position = decodeCursor(cursor, scopeOf(range), key)
  return position && !position.isTerminal ? { time: position.ts, id: position.id } : null
}

/** The checks no schema can make, as the TWAP endpoint makes them: `start` not after the range's end, a cursor of this query. */
function resolveFillsQuery(query: FillsQuery, cursorKey: string): { range: FillRange; after: FillPosition | null; served: TimeRange; limit: number } {
  const errors: ParameterError[] = []
  const limit = query.limit ?? DEFAULT_FILLS_LIMIT
  if (!Number.isSafeInteger(limit) || limit > MAX_FILLS_LIMIT) errors.push({ parameter: 'limit', message: `must be an integer from 1 to ${MAX_FILLS_LIMIT}` })
  const parsed = parseTimeRange(query)
  errors.push(...parsed.errors)
  if (!parsed.range) throw new InvalidParameters(errors)
  const range: FillRange = {
    wallet: query.wallet.toLowerCase(),
    ...rangeBounds(parsed.range),
    coin: query.asset ?? null,
    twapId: query.twap_id ?? null,
  }
  let after: FillPosition | null = null
  if (query.cursor !== undefined) {
    after = decodeFillCursor(query.cursor, range, cursorKey)
    if (!after) errors.push({ parameter: 'cursor', message: 'must be the next_cursor of a previous page of this same query (wallet, start, end, asset, twap_id)' })
  }
  if (errors.length > 0) throw new InvalidParameters(errors)
  return { range, after, served: parsed.range, limit }
}
