import { decompressBlock } from 'lz4js'
import xxhash from 'xxhash-wasm'

/**
 * LZ4 frames (the format of the `lz4` command and of Hyperliquid's node output) decompressed
 * as a stream. No package on the registry streams frames with bounded memory and installs
 * everywhere: `lz4` builds a native addon (a compiler and Node's headers fetched at install),
 * `lz4-napi`, `lz4js` and `lz4-wasm` take a whole frame in memory, and an hour of fills is
 * hundreds of megabytes once decompressed. So the frame layer (header, block sizes,
 * checksums) is read here, a block at a time, and each block is decoded by `lz4js`'s block
 * decoder and checked with `xxhash-wasm`: memory stays at one block (4 MiB at most) and the
 * 64 KiB window linked blocks refer back into.
 */

const FRAME_MAGIC = 0x184d2204
const SKIPPABLE_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const WINDOW = 64 * 1024
const BLOCK_SIZES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 }

/** The input is not a valid LZ4 frame: not LZ4 at all, truncated, or failing a checksum. */
export class Lz4FrameError extends Error {
  override name = 'Lz4FrameError'
}

const hasher = xxhash()

/** Bytes arriving in chunks, read in pieces of the sizes the frame format asks for. */
class ByteQueue {
  private chunks: Uint8Array[] = []
  private head = 0
  length = 0
  /** Bytes consumed so far, for error messages. */
  offset = 0

  private readonly source: AsyncIterator<Uint8Array>

  constructor(source: AsyncIterator<Uint8Array>) {
    this.source = source
  }

  /** True when `n` bytes are available; false when the input ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n) {
      const next = await this.source.next()
      if (next.done) return false
      if (next.value.length === 0) continue
      this.chunks.push(next.value)
      this.length += next.value.length
    }
    return true
  }

  /** True when the input has ended with every byte read. */
  async ended(): Promise<boolean> {
    return !(await this.fill(1))
  }

  /** The next `n` bytes (which `fill` made available), as one array. */
  take(n: number): Uint8Array {
    const first = this.chunks[0]!
    let out: Uint8Array
    if (first.length - this.head >= n) {
      out = first.subarray(this.head, this.head + n)
      this.head += n
    } else {
      out = new Uint8Array(n)
      let filled = 0
      while (filled < n) {
        const chunk = this.chunks[0]!
        const part = Math.min(n - filled, chunk.length - this.head)
        out.set(chunk.subarray(this.head, this.head + part), filled)
        filled += part
        this.head += part
        if (this.head === chunk.length) {
          this.chunks.shift()
          this.head = 0
        }
      }
    }
    if (this.chunks[0] && this.head === this.chunks[0].length) {
      this.chunks.shift()
      this.head = 0
    }
    this.length -= n
    this.offset += n
    return out
  }
}

function u32(bytes: Uint8Array, at = 0): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
}

/**
 * Yields the decompressed content of the LZ4 frames in `input` (one or more frames back to
 * back; skippable frames are passed over), a block at a time. Throws `Lz4FrameError` naming
 * the byte offset when the input is not LZ4, ends inside a frame, or fails a header, block
 * or content checksum; the blocks yielded before that were intact.
 */
export async function* decompressLz4(input: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const { h32Raw, create32 } = await hasher
  const bytes = new ByteQueue(input[Symbol.asyncIterator]())
  const need = async (n: number, what: string) => {
    if (!(await bytes.fill(n))) throw new Lz4FrameError(`truncated LZ4 frame: the input ends inside the ${what} at byte ${bytes.offset + bytes.length}`)
    return bytes.take(n)
  }
  if (await bytes.ended()) throw new Lz4FrameError('not an LZ4 frame: the input is empty')
  let frames = 0
  while (!(await bytes.ended())) {
    const at = bytes.offset
    if (!(await bytes.fill(4))) throw new Lz4FrameError(`not an LZ4 frame: ${bytes.length} stray byte(s) at byte ${at}`)
    const magic = u32(bytes.take(4))
    if ((magic & SKIPPABLE_MASK) === SKIPPABLE_MAGIC) {
      const size = u32(await need(4, 'skippable frame size'))
      for (let left = size; left > 0;) {
        const n = Math.min(left, 1 << 20)
        await need(n, 'skippable frame')
        left -= n
      }
      continue
    }
    if (magic !== FRAME_MAGIC) {
      throw new Lz4FrameError(frames === 0 ? 'not an LZ4 frame: the file does not start with the LZ4 magic number' : `not an LZ4 frame: unexpected bytes at byte ${at} after ${frames} frame(s)`)
    }
    frames++
    yield* frameBlocks(bytes, need, h32Raw, create32)
  }
}

async function* frameBlocks(
  bytes: ByteQueue,
  need: (n: number, what: string) => Promise<Uint8Array>,
  h32Raw: (input: Uint8Array, seed?: number) => number,
  create32: (seed?: number) => { update(input: Uint8Array): unknown; digest(): number },
): AsyncGenerator<Uint8Array> {
  const start = bytes.offset - 4
  const head = await need(2, 'frame header')
  const flg = head[0]!
  const bd = head[1]!
  if (flg >> 6 !== 1) throw new Lz4FrameError(`unsupported LZ4 frame version ${flg >> 6} at byte ${start}`)
  const independent = (flg & 0x20) !== 0
  const blockChecksums = (flg & 0x10) !== 0
  const contentSize = (flg & 0x08) !== 0
  const contentChecksum = (flg & 0x04) !== 0
  const dictId = (flg & 0x01) !== 0
  const blockMax = BLOCK_SIZES[(bd >> 4) & 7]
  if (blockMax === undefined || (flg & 0x02) !== 0 || (bd & 0x8f) !== 0) throw new Lz4FrameError(`invalid LZ4 frame descriptor at byte ${start}`)
  const extra = await need((contentSize ? 8 : 0) + (dictId ? 4 : 0) + 1, 'frame header')
  const descriptor = new Uint8Array(2 + extra.length - 1)
  descriptor.set(head)
  descriptor.set(extra.subarray(0, extra.length - 1), 2)
  if (((h32Raw(descriptor, 0) >>> 8) & 0xff) !== extra[extra.length - 1]) throw new Lz4FrameError(`bad LZ4 header checksum at byte ${start}`)
  if (dictId) throw new Lz4FrameError(`LZ4 frame at byte ${start} needs a dictionary, which this reader does not have`)

  const content = contentChecksum ? create32(0) : undefined
  // Linked blocks may copy from the 64 KiB before them: they are decoded after that window.
  const out = new Uint8Array((independent ? 0 : WINDOW) + blockMax)
  let window = 0
  for (;;) {
    const blockAt = bytes.offset
    const word = u32(await need(4, 'block size'))
    if (word === 0) break
    const stored = (word & 0x80000000) !== 0
    const size = word & 0x7fffffff
    if (size > blockMax) throw new Lz4FrameError(`corrupt LZ4 block at byte ${blockAt}: ${size} bytes, over the frame's ${blockMax}`)
    const data = await need(size, 'block')
    if (blockChecksums && u32(await need(4, 'block checksum')) !== h32Raw(data, 0)) throw new Lz4FrameError(`bad LZ4 block checksum at byte ${blockAt}`)
    let block: Uint8Array
    if (stored) {
      block = data.slice()
    } else {
      const end = decompressBlock(data, out, 0, size, window)
      if (!(end > window && end <= out.length)) throw new Lz4FrameError(`corrupt LZ4 block at byte ${blockAt}`)
      block = out.slice(window, end)
    }
    if (!independent) window = slide(out, window, block)
    content?.update(block)
    yield block
  }
  if (content && u32(await need(4, 'content checksum')) !== content.digest()) throw new Lz4FrameError(`bad LZ4 content checksum in the frame at byte ${start}`)
}

/** Keeps the last 64 KiB of output at the start of `out`; returns the window's length. */
function slide(out: Uint8Array, window: number, block: Uint8Array): number {
  if (block.length >= WINDOW) {
    out.set(block.subarray(block.length - WINDOW), 0)
    return WINDOW
  }
  const keep = Math.min(window, WINDOW - block.length)
  out.copyWithin(0, window - keep, window)
  out.set(block, keep)
  return keep + block.length
}
