import { uncompressSync } from 'lz4-napi'
import xxhash from 'xxhash-wasm'

/**
 * LZ4 frames (the format of the `lz4` command and of Hyperliquid's node output) decompressed
 * as a stream. No package on the registry streams frames with bounded memory and installs
 * everywhere: `lz4` builds a native addon (a compiler and Node's headers fetched at install),
 * and the frame decoders of `lz4-napi`, `lz4js` and `lz4-wasm` take a whole frame in memory,
 * while an hour of fills is hundreds of megabytes once decompressed. So the frame layer
 * (header, block sizes, checksums) is read here, a block at a time; each block is decoded by
 * `lz4-napi`'s block decoder (lz4_flex, prebuilt for every common platform, about three
 * times as fast as `lz4js` on node fills) and checked with `xxhash-wasm`. Memory stays at
 * a block in, a block out (4 MiB each at most) and the 64 KiB window linked blocks refer
 * back into.
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

/**
 * Bytes arriving in chunks, read in pieces of the sizes the frame format asks for. Each
 * chunk is copied into one buffer of the queue's own, reused for the whole input, and
 * let go at once: the chunks a file stream reads (1 MiB each) then die young, where
 * holding them until their bytes were taken kept them alive long enough to reach V8's
 * old generation, and with four large objects in flight hundreds of megabytes of them
 * waited there for a full collection.
 */
class ByteQueue {
  private buf = Buffer.allocUnsafeSlow(1 << 20)
  private start = 0
  private end = 0
  /** Bytes consumed so far, for error messages. */
  offset = 0

  private readonly source: AsyncIterator<Uint8Array>

  constructor(source: AsyncIterator<Uint8Array>) {
    this.source = source
  }

  /** Bytes available. */
  get length(): number {
    return this.end - this.start
  }

  /** True when `n` bytes are available; false when the input ended first. */
  async fill(n: number): Promise<boolean> {
    while (this.length < n) {
      const next = await this.source.next()
      if (next.done) return false
      const chunk = next.value
      if (this.end + chunk.length > this.buf.length) this.makeRoom(chunk.length)
      this.buf.set(chunk, this.end)
      this.end += chunk.length
    }
    return true
  }

  /** True when the input has ended with every byte read. */
  async ended(): Promise<boolean> {
    return !(await this.fill(1))
  }

  /** A copy of the next `n` bytes (which `fill` made available). */
  take(n: number): Uint8Array {
    return this.copy(n, new Uint8Array(n), 0)
  }

  /** Passes over the next `n` bytes (which `fill` made available). */
  skip(n: number): void {
    this.start += n
    this.offset += n
  }

  /** Copies the next `n` bytes (which `fill` made available) into `out` at `at`; returns `out`. */
  copy(n: number, out: Uint8Array, at: number): Uint8Array {
    out.set(this.buf.subarray(this.start, this.start + n), at)
    this.start += n
    this.offset += n
    return out
  }

  /** Moves the unread bytes to the front, growing the buffer when they and `incoming` more do not fit. */
  private makeRoom(incoming: number): void {
    const needed = this.length + incoming
    if (needed > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(needed, this.buf.length * 2))
      grown.set(this.buf.subarray(this.start, this.end))
      this.buf = grown
    } else {
      this.buf.copyWithin(0, this.start, this.end)
    }
    this.end -= this.start
    this.start = 0
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
  const available = async (n: number, what: string) => {
    if (!(await bytes.fill(n))) throw new Lz4FrameError(`truncated LZ4 frame: the input ends inside the ${what} at byte ${bytes.offset + bytes.length}`)
  }
  const need = async (n: number, what: string, into?: Uint8Array) => {
    await available(n, what)
    return into ? bytes.copy(n, into, 4).subarray(4, 4 + n) : bytes.take(n)
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
        await available(n, 'skippable frame')
        bytes.skip(n)
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
  /** The next `n` bytes; with `into`, copied there after four bytes left free. */
  need: (n: number, what: string, into?: Uint8Array) => Promise<Uint8Array>,
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
  // The block decoder reads the output's capacity from four bytes before the block, and
  // fails a block that would decode to more; linked blocks also get the 64 KiB before them.
  const input = Buffer.allocUnsafe(4 + blockMax)
  input.writeUInt32LE(blockMax, 0)
  const window = independent ? undefined : new Window()
  for (;;) {
    const blockAt = bytes.offset
    const word = u32(await need(4, 'block size'))
    if (word === 0) break
    const stored = (word & 0x80000000) !== 0
    const size = word & 0x7fffffff
    if (size > blockMax) throw new Lz4FrameError(`corrupt LZ4 block at byte ${blockAt}: ${size} bytes, over the frame's ${blockMax}`)
    // A stored block becomes output as it is: a copy of its own; a compressed one goes after the capacity.
    const data = await need(size, 'block', stored ? new Uint8Array(4 + size) : input)
    if (blockChecksums && u32(await need(4, 'block checksum')) !== h32Raw(data, 0)) throw new Lz4FrameError(`bad LZ4 block checksum at byte ${blockAt}`)
    let block: Uint8Array
    if (stored) {
      block = data
    } else {
      try {
        // On the main thread: lz4-napi's thread-pool variant doubled the peak RSS (its
        // allocator keeps each thread's freed 4 MiB outputs), for no less CPU in all.
        block = uncompressSync(input.subarray(0, 4 + size), window?.bytes())
      } catch (err) {
        throw new Lz4FrameError(`corrupt LZ4 block at byte ${blockAt}: ${(err as Error).message}`)
      }
      if (block.length === 0) throw new Lz4FrameError(`corrupt LZ4 block at byte ${blockAt}: it decodes to nothing`)
    }
    window?.push(block)
    content?.update(block)
    yield block
  }
  if (content && u32(await need(4, 'content checksum')) !== content.digest()) throw new Lz4FrameError(`bad LZ4 content checksum in the frame at byte ${start}`)
}

/** The last 64 KiB of output, which a linked block may copy from. */
class Window {
  private readonly buf = new Uint8Array(WINDOW)
  private length = 0
  private last: Uint8Array | undefined

  /** The window as one array (the tail of the last block when that holds all of it). */
  bytes(): Uint8Array {
    if (this.last) return this.last
    return this.buf.subarray(0, this.length)
  }

  push(block: Uint8Array): void {
    if (block.length >= WINDOW) {
      // Kept as a view: the block is not reused, and copying it waits for a short block.
      this.last = block.subarray(block.length - WINDOW)
      return
    }
    if (this.last) {
      this.buf.set(this.last)
      this.length = WINDOW
      this.last = undefined
    }
    const keep = Math.min(this.length, WINDOW - block.length)
    this.buf.copyWithin(0, this.length - keep, this.length)
    this.buf.set(block, keep)
    this.length = keep + block.length
  }
}
