/**
 * Writes LZ4 frames and Hyperliquid node-fill lines for tests, so no test depends on a
 * committed binary or on the `lz4` command. `lz4Frame` encodes bytes as the `lz4` command
 * would, with every frame option; `blockLine` and `makeFills` invent fills as the node writes them.
 */

import { compressBlock } from 'lz4js'
import xxhash from 'xxhash-wasm'
import { mulberry32 } from '#src/sample.ts'

export interface Lz4FrameOptions {
  /** Block maximum size code: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB (default 4). */
  blockSize?: 4 | 5 | 6 | 7
  /** Blocks may refer back into the previous 64 KiB (the `lz4 -BD` mode). */
  linked?: boolean
  blockChecksums?: boolean
  /** Default true, as the `lz4` command writes. */
  contentChecksum?: boolean
  /** Record the content size in the header. */
  contentSize?: boolean
  /** Input bytes per block, below the maximum as a writer that flushes often makes them (default the maximum). */
  blockBytes?: number
}

const SIZES = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 } as const

/** `data` as one LZ4 frame. */
export async function lz4Frame(data: Uint8Array | string, options: Lz4FrameOptions = {}): Promise<Uint8Array> {
  const { h32Raw } = await xxhash()
  const src = typeof data === 'string' ? new TextEncoder().encode(data) : data
  const code = options.blockSize ?? 4
  const max = SIZES[code]
  const contentChecksum = options.contentChecksum ?? true
  const flg = 0x40 | (options.linked ? 0 : 0x20) | (options.blockChecksums ? 0x10 : 0) | (options.contentSize ? 0x08 : 0) | (contentChecksum ? 0x04 : 0)
  const header = [flg, code << 4]
  if (options.contentSize) {
    let n = BigInt(src.length)
    for (let i = 0; i < 8; i++, n >>= 8n) header.push(Number(n & 0xffn))
  }
  const out: number[] = [0x04, 0x22, 0x4d, 0x18, ...header, (h32Raw(new Uint8Array(header), 0) >>> 8) & 0xff]
  const u32 = (n: number) => out.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff)
  const shared = new Uint32Array(1 << 16)
  const scratch = new Uint8Array(max + max / 255 + 16)
  const step = Math.min(max, options.blockBytes ?? max)
  for (let at = 0; at < src.length; at += step) {
    const size = Math.min(step, src.length - at)
    // Linked blocks compress against the whole input, so matches may reach the block before.
    const compressed = options.linked
      ? compressBlock(src, scratch, at, size, shared)
      : compressBlock(src.subarray(at, at + size), scratch, 0, size, new Uint32Array(1 << 16))
    const stored = compressed === 0 || compressed >= size
    const body = stored ? src.subarray(at, at + size) : scratch.subarray(0, compressed)
    u32((stored ? 0x80000000 : 0) | body.length)
    for (const b of body) out.push(b)
    if (options.blockChecksums) u32(h32Raw(body, 0))
  }
  u32(0)
  if (contentChecksum) u32(h32Raw(src, 0))
  return new Uint8Array(out)
}

/** The chunks of `bytes`, `size` bytes each: how a file or a socket hands them over. */
export async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

/** One fill as the node writes it; numbers that must stay exact are bigints, written as digits. */
export interface SourceFill {
  coin: string
  px: string
  sz: string
  side: 'A' | 'B'
  time: number
  startPosition: string
  dir: string
  closedPnl: string
  hash: string
  oid: bigint
  crossed: boolean
  fee: string
  tid: bigint
  feeToken: string
  twapId: bigint | null
  [extra: string]: unknown
}

/** JSON text in which bigints are written as their digits (never through a JS number). */
export function json(value: unknown): string {
  const marked = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `\u0000big:${v}\u0000` : v))
  return marked.replace(/"\\u0000big:(-?\d+)\\u0000"/g, '$1')
}

/** A `node_fills_by_block` line. */
export function blockLine(blockNumber: number, blockTime: string, events: readonly (readonly [string, SourceFill])[]): string {
  return json({ local_time: blockTime, block_time: blockTime, block_number: blockNumber, events })
}

export interface MakeFillsOptions {
  seed?: number
  /** Wallets trading; each fill's user is one of them. */
  wallets: readonly string[]
  count: number
  /** Share of fills that are TWAP slices (default 0.05). */
  twapShare?: number
  /** TWAP ids handed out to slices, round-robin. */
  twapIds?: readonly bigint[]
  /** First fill's time, epoch ms (default 2025-10-27T06:30:38.019Z). */
  start?: number
}

/** `count` plausible fills, ids above 2^53, a share of them TWAP slices with an all-zero hash. */
export function makeFills(options: MakeFillsOptions): [string, SourceFill][] {
  const rand = mulberry32(options.seed ?? 1)
  const share = options.twapShare ?? 0.05
  const twapIds = options.twapIds ?? [1_305_284n]
  const start = options.start ?? 1_761_546_638_019
  const fills: [string, SourceFill][] = []
  let slice = 0
  for (let i = 0; i < options.count; i++) {
    const twap = rand() < share
    const user = options.wallets[Math.floor(rand() * options.wallets.length)]!
    fills.push([user, {
      coin: ['HYPE', 'BTC', '@107', 'xyz:NVDA'][i % 4]!,
      px: (40 + rand() * 10).toFixed(3),
      sz: (rand() * 5 + 0.01).toFixed(2),
      side: rand() < 0.5 ? 'A' : 'B',
      time: start + i * 250,
      startPosition: (rand() * 500).toFixed(2),
      dir: ['Open Long', 'Close Long', 'Open Short', 'Close Short', 'Buy', 'Sell'][i % 6]!,
      closedPnl: (rand() * 20 - 10).toFixed(6),
      hash: twap ? '0x' + '0'.repeat(64) : '0x' + Math.floor(rand() * 2 ** 52).toString(16).padStart(64, 'a'),
      oid: 9_007_199_254_740_993n + BigInt(i) * 7n,
      crossed: rand() < 0.5,
      fee: (rand() * 0.1 - 0.01).toFixed(6),
      tid: 990_908_538_720_549_123n + BigInt(i),
      feeToken: 'USDC',
      twapId: twap ? twapIds[slice++ % twapIds.length]! : null,
    }])
  }
  return fills
}
