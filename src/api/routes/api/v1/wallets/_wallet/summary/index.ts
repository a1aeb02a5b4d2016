import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { walletSummaryRows } from '#src/store/summary-queries.ts'
import { InvalidParameters } from '#src/api/plugins/app/errors.ts'
import { parseTimeRange, RANGE_RULE, rangeBounds, rangeFilePart } from '#src/api/range.ts'
import { markExport, rangeCoverage } from '#src/api/range-coverage.ts'
import { problemResponses } from '#src/api/schemas/problem.ts'
import { SummaryParams, SummaryQuery, WalletSummary } from '#src/api/schemas/summary.ts'
import { summaryCsv, toSummary } from '#src/api/summary.ts'
import { isCsvSafe } from '#src/api/csv-safe.ts'

/**
 * `GET /api/v1/wallets/:wallet/summary`: a wallet's TWAPs and fills over a range, summed
 * per asset and side and in total, in two queries whatever the wallet's size.
 */
const walletSummary: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app
  app.get('', {
    schema: {
      operationId: 'getWalletSummary',
      summary: 'A wallet\'s totals over a time range',
      description: `Per asset and side: TWAPs by latest status in the range, their executed size, notional and average price (from the status events, each TWAP as its latest event in the range); fill count, fees per token, builder fees and realized PnL (from the fills). Then the totals across assets: notional in USD, fees per fee token. ${RANGE_RULE} All sums exact. \`coverage\` says per dataset whether every hour of the range is stored. \`format=csv\`: one line per asset and side, then a \`total\` line; the file is named \`…_incomplete.csv\` and \`X-Coverage-Complete\` is \`false\` unless both datasets cover the range.`,
      tags: ['wallets'],
      params: SummaryParams,
      querystring: SummaryQuery,
      response: {
        200: {
          description: 'The summary.',
          headers: {
            'Content-Disposition': {
              type: 'string',
              description: 'CSV only: `attachment; filename="summary_<wallet>_<start>_<end>.csv"`, with `_incomplete` before the extension unless both the statuses and the fills cover every hour of the range.',
            },
            'X-Coverage-Complete': {
              type: 'string',
              description: 'CSV only: `true` when both datasets cover every hour of the range, else `false`.',
            },
          },
          content: {
            'application/json': { schema: WalletSummary },
            'text/csv': { schema: { type: 'string', description: 'Header, one line per asset and side, one `total` line.' } },
          },
        },
        ...problemResponses(401, 422, 429, 503),
      },
    },
  }, async (request, reply) => {
    const parsed = parseTimeRange(request.query)
    if (!parsed.range) throw new InvalidParameters(parsed.errors)
    const range = { wallet: request.params.wallet.toLowerCase(), ...rangeBounds(parsed.range), asset: request.query.asset ?? null }
    const [{ twaps, fills }, coverage] = await Promise.all([walletSummaryRows(db, range), rangeCoverage(db, parsed.range, request)])
    const summary = toSummary(range, twaps, fills, coverage)
    if (request.query.format === 'csv') {
      // Its columns come from both datasets: a gap in either makes some of them short.
      const complete = coverage.statuses.complete && coverage.fills.complete
      const filename = markExport(reply, complete, `summary_${range.wallet}_${rangeFilePart(parsed.range)}`, 'csv')
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename}"`)
        .send(summaryCsv(summary, isCsvSafe(request.query.csv_safe)) as unknown as WalletSummary)
    }
    return summary
  })
}

export default walletSummary
