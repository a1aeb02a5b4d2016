import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { fillTotals, NO_FILLS, twapFills, twapKnown } from '#src/store/fill-queries.ts'
import { toFill } from '#src/api/fill-json.ts'
import { RawTexts, sendJsonWithRaw } from '#src/api/raw-json.ts'
import { sendProblem } from '#src/api/plugins/app/errors.ts'
import { TwapFills } from '#src/api/schemas/fills.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { TwapParams } from '#src/api/schemas/twaps.ts'

/** `GET /api/v1/twaps/:twap_id/fills`: every fill of one TWAP, oldest first, with their totals. */
const twapFillsRoute: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app
  app.get('', {
    schema: {
      operationId: 'getTwapFills',
      summary: 'Every fill of one TWAP, with totals',
      description: 'All stored slice fills of the TWAP, oldest first, and what they add up to: count, size, notional, average price, fees by token, builder fees, realized PnL. 404 when neither an event nor a fill of the TWAP is stored.',
      tags: ['fills'],
      params: TwapParams,
      response: {
        200: { description: 'The TWAP\'s fills and their totals.', content: { 'application/json': { schema: TwapFills } } },
        ...problemResponses(401, 404, 422, 429, 503),
      },
    },
  }, async (request, reply) => {
    const { twap_id: twapId } = request.params
    const [rows, totals] = await Promise.all([twapFills(db, twapId), fillTotals(db, [twapId])])
    if (rows.length === 0 && !(await twapKnown(db, twapId))) return sendProblem(reply, 404, { detail: `No TWAP with id ${twapId}.` })
    const raws = new RawTexts()
    const answer: TwapFills = { twap_id: twapId, fills: rows.map((row) => toFill(row, raws)), totals: totals.get(twapId) ?? NO_FILLS }
    return sendJsonWithRaw(reply, answer, raws)
  })
}

export default twapFillsRoute
