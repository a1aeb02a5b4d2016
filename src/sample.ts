import { parquetWriteBuffer } from 'hyparquet-writer'

/** Wallets of the sample: the first is the one the README's examples query. */
export const SAMPLE_WALLETS = [
  '0x9d6a1f0c3b2e4d5a6978b1c2d3e4f5a6b7c8d9b8',
  '0x31ca8395cf837de08b24da3f660e77761dfb974b',
  '0x5b5d51203a0f9079f8aeb098a6523a13f298c060',
  '0xecb63caa47c7c4e77f60f1ce858cf28dc2b82b00',
] as const

const COINS = ['BTC', 'ETH', 'SOL', 'HYPE', '@107', 'PURR/USDC', 'xyz:NVDA'] as const
const PRICES: Record<(typeof COINS)[number], number> = {
  BTC: 91_250.5, ETH: 3_020.25, SOL: 140.5, HYPE: 33.125, '@107': 32.9, 'PURR/USDC': 0.2175, 'xyz:NVDA': 181.5,
}

/**
 * A small seeded PRNG (mulberry32), so the sample is the same file on every run. Tests
 * and benchmarks generate their files with it too.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export interface SampleRow {
  time: string
  twap_id: bigint
  state_coin: string
  state_user: string
  state_side: string
  state_sz: string
  state_executedSz: string
  state_executedNtl: string
  state_minutes: number
  state_reduceOnly: boolean
  state_randomize: boolean
  state_timestamp: bigint
  status: string
}

/**
 * The rows of the bundled sample: TWAPs of a few wallets in November 2025, each with its
 * `activated` event and, for all but the newest, a `finished`, `terminated` or error event,
 * shaped like the Artemis files (flattened `state_*` columns, decimal strings, a zone-less
 * ISO `time`).
 */
export function sampleRows(): SampleRow[] {
  const rand = mulberry32(20251101)
  const rows: SampleRow[] = []
  const startMs = Date.UTC(2025, 10, 1)
  let twapId = 1_200_000n
  for (let i = 0; i < 48; i++) {
    const wallet = SAMPLE_WALLETS[i % 3 === 0 ? 0 : 1 + Math.floor(rand() * 3)]!
    const coin = COINS[Math.floor(rand() * COINS.length)]!
    const price = PRICES[coin]
    const size = Number((rand() * (price > 1000 ? 2 : price > 100 ? 40 : 2000)).toFixed(coin === 'BTC' ? 5 : 2)) || 1
    const minutes = [5, 10, 30, 60, 120, 240][Math.floor(rand() * 6)]!
    const placedMs = startMs + Math.floor(rand() * 28 * 86_400_000)
    const state = {
      twap_id: (twapId += BigInt(1 + Math.floor(rand() * 900))),
      state_coin: coin,
      state_user: wallet,
      state_side: rand() < 0.55 ? 'B' : 'A',
      state_sz: String(size),
      state_minutes: minutes,
      state_reduceOnly: rand() < 0.15,
      state_randomize: rand() < 0.4,
      state_timestamp: BigInt(placedMs),
    }
    rows.push({ ...state, time: isoNoZone(placedMs), state_executedSz: '0.0', state_executedNtl: '0.0', status: 'activated' })
    if (i === 47) continue // one TWAP still running
    const outcome = rand()
    const status = outcome < 0.75 ? 'finished' : outcome < 0.92 ? 'terminated' : 'error: Insufficient margin to place order.'
    const done = status === 'finished' ? 1 : status === 'terminated' ? 0.2 + rand() * 0.6 : 0
    const executed = Number((size * done).toFixed(coin === 'BTC' ? 5 : 2))
    const avg = price * (1 + (rand() - 0.5) / 50)
    const endMs = placedMs + (status === 'finished' ? minutes * 60_000 : Math.floor(minutes * 60_000 * done)) + Math.floor(rand() * 1000)
    rows.push({
      ...state,
      time: isoNoZone(endMs),
      state_executedSz: String(executed),
      state_executedNtl: (executed * avg).toFixed(6).replace(/0+$/, '').replace(/\.$/, '.0'),
      status,
    })
  }
  return rows.sort((a, b) => (a.time < b.time ? -1 : 1))
}

function isoNoZone(ms: number): string {
  // Upstream event times carry nanoseconds and no zone, e.g. 2025-12-04T17:00:22.417074898
  return new Date(ms).toISOString().replace('Z', '') + String(ms % 997).padStart(3, '0') + '123'
}

/** The sample as a snappy-compressed parquet file, as `hl-twap sample` writes it. */
export function sampleParquet(): ArrayBuffer {
  const rows = sampleRows()
  const column = <K extends keyof SampleRow>(name: K, type: 'STRING' | 'INT64' | 'INT32' | 'BOOLEAN') => ({
    name, type, data: rows.map((r) => r[name]), nullable: false,
  })
  return parquetWriteBuffer({
    columnData: [
      column('time', 'STRING'), column('twap_id', 'INT64'), column('state_coin', 'STRING'), column('state_user', 'STRING'),
      column('state_side', 'STRING'), column('state_sz', 'STRING'), column('state_executedSz', 'STRING'),
      column('state_executedNtl', 'STRING'), column('state_minutes', 'INT32'), column('state_reduceOnly', 'BOOLEAN'),
      column('state_randomize', 'BOOLEAN'), column('state_timestamp', 'INT64'), column('status', 'STRING'),
    ],
  })
}
