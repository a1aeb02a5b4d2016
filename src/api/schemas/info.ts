import { Type } from 'typebox'
import { component } from './component.ts'

/**
 * Hyperliquid's info requests and answers, as `POST /info` takes and gives them. These
 * schemas document the route; the body is checked in `routes/info.ts`, so that a wrong
 * `type` can be answered with the list of supported ones rather than an error per variant.
 */

/** The request types `POST /info` answers. */
export const INFO_TYPES = ['twapHistory', 'userTwapSliceFills', 'userTwapSliceFillsByTime'] as const
export type InfoType = (typeof INFO_TYPES)[number]

/** Records a response holds at most, as on Hyperliquid. */
export const INFO_PAGE = 2000

const User = Type.String({ pattern: '^0[xX][0-9a-fA-F]{40}$', description: 'Wallet address, any case.', examples: ['0x9d6a1f0c3b2e4d5a6978b1c2d3e4f5a6b7c8d9b8'] })
const Millis = (description: string) => Type.Integer({ minimum: 0, description: `${description} Epoch milliseconds.` })

const TwapHistoryRequest = component('InfoTwapHistoryRequest', Type.Object({
  type: Type.Literal('twapHistory'),
  user: User,
  startTime: Type.Optional(Millis('First instant, inclusive; with it the oldest events from there come first. Not on Hyperliquid.')),
  endTime: Type.Optional(Millis('Last instant, inclusive. Not on Hyperliquid.')),
}, { title: 'twapHistory', description: 'The wallet\'s TWAP status events: the latest 2,000, or with `startTime` the first 2,000 from there.' }))

const SliceFillsRequest = component('InfoTwapSliceFillsRequest', Type.Object({
  type: Type.Literal('userTwapSliceFills'),
  user: User,
}, { title: 'userTwapSliceFills', description: 'The wallet\'s latest 2,000 TWAP slice fills.' }))

const SliceFillsByTimeRequest = component('InfoTwapSliceFillsByTimeRequest', Type.Object({
  type: Type.Literal('userTwapSliceFillsByTime'),
  user: User,
  startTime: Millis('First instant, inclusive.'),
  endTime: Type.Optional(Type.Union([Millis('Last instant, inclusive.'), Type.Null()])),
  aggregateByTime: Type.Optional(Type.Boolean({ description: 'Merge the partial fills of one order at one time into one fill.' })),
}, { title: 'userTwapSliceFillsByTime', description: 'The wallet\'s TWAP slice fills from `startTime`, oldest first, 2,000 at most.' }))

export const InfoRequest = Type.Union([TwapHistoryRequest, SliceFillsRequest, SliceFillsByTimeRequest], {
  description: 'A Hyperliquid info request.',
  examples: [{ type: 'twapHistory', user: '0x9d6a1f0c3b2e4d5a6978b1c2d3e4f5a6b7c8d9b8' }],
})

const Decimal = Type.String({ description: 'Exact decimal, as a string.' })

const TwapHistoryRecord = component('InfoTwapHistoryRecord', Type.Object({
  time: Type.Integer({ description: 'Time of the status event, epoch seconds.' }),
  state: Type.Object({
    coin: Type.String(),
    executedNtl: Decimal,
    executedSz: Decimal,
    minutes: Type.Integer(),
    randomize: Type.Boolean(),
    reduceOnly: Type.Boolean(),
    side: Type.String({ enum: ['B', 'A'] }),
    sz: Decimal,
    timestamp: Type.Integer({ description: 'Placement time, epoch milliseconds.' }),
    user: Type.String(),
  }),
  status: Type.Object({
    status: Type.String({ examples: ['finished', 'activated', 'terminated', 'error', 'waitingForTrigger', 'stopped'] }),
    description: Type.Optional(Type.String({ description: 'The error message, with `status: "error"`.' })),
  }),
  twapId: Type.Integer({ description: 'The TWAP id, every digit as stored.' }),
}, { title: 'TwapHistoryRecord' }))

const SliceFill = component('InfoTwapSliceFill', Type.Object({
  fill: Type.Object({}, {
    additionalProperties: true,
    description: 'The fill as the node wrote it (coin, px, sz, side, time, startPosition, dir, closedPnl, hash, oid, crossed, fee, tid, feeToken and any other field), ids with every digit.',
  }),
  twapId: Type.Integer(),
}, { title: 'TwapSliceFill' }))

/** The 200 answer's documented shapes, one per request type. */
export const InfoResponse = Type.Union([Type.Array(TwapHistoryRecord), Type.Array(SliceFill)], {
  description: 'For `twapHistory` an array of TWAP history records, for the fill requests an array of slice fills; oldest first.',
})
