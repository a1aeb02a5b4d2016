import type { CostEstimate } from './source.ts'

/** Requester-pays prices in us-east-1, in US dollars. */
export const PRICES = { perGbTransfer: 0.09, perThousandList: 0.005, perThousandGet: 0.0004 } as const

/** What the requester pays for `listRequests` LISTs and GETs of `bytes` over `getRequests` objects. */
export function estimateCost(listRequests: number, getRequests: number, bytes: number): CostEstimate {
  const usd = (bytes / 1e9) * PRICES.perGbTransfer +
    (listRequests / 1000) * PRICES.perThousandList +
    (getRequests / 1000) * PRICES.perThousandGet
  return { listRequests, getRequests, bytes, usd }
}
