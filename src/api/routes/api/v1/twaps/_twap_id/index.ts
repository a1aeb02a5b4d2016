import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { twapHistory } from '#src/store/twap-queries.ts'
import { sendProblem } from '#src/api/plugins/app/errors.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { TwapHistory, TwapParams } from '#src/api/schemas/twaps.ts'
import { toHistoryRow } from '#src/api/twap-json.ts'
import { RawTexts, sendJsonWithRaw } from '#src/api/raw-json.ts'

/**
 * `GET /api/v1/twaps/:twap_id`: every stored event of one TWAP, oldest first, the order
 * of a TWAP's `events` in the list (what a ledger reads top to bottom).
 */
const twapById: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app
  app.get('', {
    schema: {
      operationId: 'getTwap',
      summary: 'Every event of one TWAP',
      description: 'All stored events of the TWAP, whatever their time, oldest first (on equal times the terminal status last), as the `events` of a TWAP in the list.',
      tags: ['twaps'],
      params: TwapParams,
      response: {
        200: { description: 'The TWAP\'s events.', content: { 'application/json': { schema: TwapHistory } } },
        ...problemResponses(401, 404, 422, 429, 503),
      },
    },
  }, async (request, reply) => {
    const { twap_id: twapId } = request.params
    const rows = await twapHistory(db, twapId)
    if (rows.length === 0) return sendProblem(reply, 404, { detail: `No TWAP with id ${twapId}.` })
    // The store reads newest first (its index order); the answer is oldest first.
    const raws = new RawTexts()
    const history: TwapHistory = { twap_id: twapId, rows: rows.reverse().map((row) => toHistoryRow(row, raws)) }
    return sendJsonWithRaw(reply, history, raws)
  })
}

export default twapById
