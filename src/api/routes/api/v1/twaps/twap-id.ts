import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Db } from '../../../../../store/db.ts'
import { twapHistory } from '../../../../../store/twap-queries.ts'
import { sendProblem } from '../../../../plugins/errors.ts'
import { problemResponses } from '../../../../schemas/problem.ts'
import { TwapHistory, TwapParams } from '../../../../schemas/twaps.ts'
import { toHistoryRow } from '../../../../twap-json.ts'

/** `GET /api/v1/twaps/:twap_id`: every stored event of one TWAP, newest first. */
const twapById: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get('/:twap_id', {
    schema: {
      summary: 'Every event of one TWAP',
      description: 'All stored events of the TWAP, whatever their time, newest first (on equal times the terminal status first).',
      tags: ['twaps'],
      params: TwapParams,
      response: { 200: TwapHistory, ...problemResponses(401, 404, 422, 429, 503) },
    },
  }, async (request, reply) => {
    const { twap_id: twapId } = request.params
    const rows = await twapHistory(db, twapId)
    if (rows.length === 0) return sendProblem(reply, 404, { detail: `No TWAP with id ${twapId}.` })
    return { twap_id: twapId, rows: rows.map(toHistoryRow) }
  })
}

export default twapById
