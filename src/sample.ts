import { compress } from 'lz4js'
import { parquetWriteBuffer } from 'hyparquet-writer'
import { STATUS_FIELDS } from './decode/event.ts'

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

/**
 * The sample as a snappy-compressed parquet file, as `hl-twap sample` writes it: a column
 * for each field of the statuses table, null where the sample has no value for it.
 */
export function sampleParquet(): ArrayBuffer {
  const rows = sampleRows() as unknown as Record<string, unknown>[]
  return parquetWriteBuffer({
    columnData: STATUS_FIELDS.map((f) => ({ name: f.source, type: f.parquet, data: rows.map((r) => r[f.source] ?? null) })),
  })
}

/** One `[user, fill]` event of the sample fills; ids are bigints so they never pass through a double. */
export type SampleFillEvent = [string, Record<string, string | number | boolean | bigint | null>]

const SPOT = new Set(['@107', 'PURR/USDC'])
const SZ_DECIMALS = (coin: string) => (coin === 'BTC' ? 5 : 2)
/** Price digits of the slices: enough that every TWAP's slices add up to its notional exactly. */
const PX_DECIMALS = 10

/** `units` × 10^-`scale` as a decimal string (`1234n, 2` → `12.34`), trailing zeros kept to one. */
function decimal(units: bigint, scale: number): string {
  const negative = units < 0n
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0')
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/0+$/, '').replace(/\.$/, '.0')
  return (negative ? '-' : '') + text
}

function units(text: string, scale: number): bigint {
  const [whole = '0', fraction = ''] = text.split('.')
  return BigInt(whole + fraction.padEnd(scale, '0').slice(0, scale))
}

/**
 * The TWAP slice fills of the sample: for each TWAP that executed anything, slices spread
 * over its life whose sizes add up exactly to its executed size and whose px × sz add up
 * exactly to its executed notional (slices come in pairs priced the same distance above
 * and below the average, and a last one-unit slice takes the rounding), among ordinary
 * fills of the same blocks without a TWAP id. In time order, several events a block.
 */
export function sampleFills(): { blockNumber: number; blockTime: string; events: SampleFillEvent[] }[] {
  const rand = mulberry32(20251102)
  const rows = sampleRows()
  const events: { ms: number; event: SampleFillEvent }[] = []
  let tid = 900_719_925_474_099_300n
  let oid = 9_007_199_254_740_993n
  for (const last of rows.filter((r) => r.status !== 'activated')) {
    const placedMs = Number(last.state_timestamp)
    const endMs = Date.parse(last.time.slice(0, 23) + 'Z')
    const dec = SZ_DECIMALS(last.state_coin)
    const size = units(last.state_executedSz, dec)
    if (size <= 0n) continue
    const notional = units(last.state_executedNtl, 6)
    const scale = BigInt(10) ** BigInt(PX_DECIMALS + dec - 6)
    // Average price at PX_DECIMALS, rounded down: N / S with N in 10^-6 and S in 10^-dec units.
    const avg = (notional * scale) / size
    const pairs = Math.max(1, Math.min(6, Number((size - 1n) / 2n)))
    const pairSize = (size - 1n) / BigInt(2 * pairs)
    const sizes: bigint[] = []
    for (let i = 0; i < 2 * pairs; i++) sizes.push(pairSize)
    sizes.push(size - pairSize * BigInt(2 * pairs))
    const prices: bigint[] = []
    for (let i = 0; i < pairs; i++) {
      const spread = (avg * BigInt(Math.floor(rand() * 40))) / 10_000n
      prices.push(avg + spread, avg - spread)
    }
    // Pairs cancel their spreads; the rest of the notional goes to the rest of the size, and
    // when it does not divide evenly, to a last slice of one unit.
    const exact = notional * scale
    const rest = exact - prices.reduce((sum, px, i) => sum + px * sizes[i]!, 0n)
    const restSize = sizes[sizes.length - 1]!
    if (rest % restSize === 0n) {
      prices.push(rest / restSize)
    } else {
      sizes[sizes.length - 1] = restSize - 1n
      prices.push(avg)
      sizes.push(1n)
      prices.push(exact - prices.reduce((sum, px, i) => sum + px * sizes[i]!, 0n))
    }
    let position = 0n
    sizes.forEach((sz, i) => {
      if (sz <= 0n) return
      const ms = placedMs + Math.floor(((i + 1) / (sizes.length + 1)) * (endMs - placedMs))
      const px = prices[i]!
      const fillNotional = px * sz
      const side = last.state_side
      const start = position
      position += side === 'B' ? sz : -sz
      events.push({
        ms,
        event: [last.state_user, {
          coin: last.state_coin, px: decimal(px, PX_DECIMALS), sz: decimal(sz, dec), side, time: ms,
          startPosition: decimal(start, dec),
          dir: SPOT.has(last.state_coin) ? (side === 'B' ? 'Buy' : 'Sell') : side === 'B' ? 'Open Long' : 'Open Short',
          closedPnl: '0.0', hash: '0x' + '0'.repeat(64), oid: oid++, crossed: true,
          fee: decimal(fillNotional * 35n / 100_000n / BigInt(10) ** BigInt(PX_DECIMALS + dec - 6), 6),
          tid: (tid += 1n + BigInt(Math.floor(rand() * 50))), feeToken: 'USDC', twapId: last.twap_id,
        }],
      })
      // The other side of most slices is an ordinary order of another wallet.
      if (rand() < 0.7) {
        const other = SAMPLE_WALLETS[(SAMPLE_WALLETS.indexOf(last.state_user as (typeof SAMPLE_WALLETS)[number]) + 1) % SAMPLE_WALLETS.length]!
        events.push({
          ms,
          event: [other, {
            coin: last.state_coin, px: decimal(px, PX_DECIMALS), sz: decimal(sz, dec), side: side === 'B' ? 'A' : 'B', time: ms,
            startPosition: '0.0', dir: SPOT.has(last.state_coin) ? (side === 'B' ? 'Sell' : 'Buy') : side === 'B' ? 'Open Short' : 'Open Long',
            closedPnl: '0.0', hash: '0x' + Math.floor(rand() * 2 ** 48).toString(16).padStart(64, '7'), oid: oid++, crossed: false,
            fee: '0.0', tid, feeToken: 'USDC', twapId: null,
          }],
        })
      }
    })
  }
  events.sort((a, b) => a.ms - b.ms)
  const blocks: { blockNumber: number; blockTime: string; ms: number; events: SampleFillEvent[] }[] = []
  let blockNumber = 780_000_000
  for (const { ms, event } of events) {
    const prev = blocks[blocks.length - 1]
    if (prev?.ms === ms) prev.events.push(event)
    else blocks.push({ blockNumber: blockNumber++, blockTime: new Date(ms).toISOString().slice(0, -1) + '123456', ms, events: [event] })
  }
  return blocks.map(({ ms: _ms, ...block }) => block)
}

/** The sample fills as an LZ4 file of JSON lines (`node_fills_by_block`), ids written as their digits. */
export function sampleFillsLz4(): Uint8Array {
  return compress(new TextEncoder().encode(sampleFillLines()))
}

/** The sample fills as JSON lines, ids written as their digits. */
export function sampleFillLines(): string {
  const json = (value: unknown) => JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v)).replace(/"\\u0000(\d+)\\u0000"/g, '$1')
  return sampleFills().map((b) => json({ local_time: b.blockTime, block_time: b.blockTime, block_number: b.blockNumber, events: b.events })).join('\n') + '\n'
}
