import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import xxhash from 'xxhash-wasm'
import { decompressLz4, Lz4FrameError } from '#src/decode/lz4-frame.ts'
import { decodeFillFile, decodeFillLines, type FillBatch } from '#src/decode/node-fills.ts'
import { blockLine, chunked, json, lz4Frame, makeFills, type SourceFill } from '../support/lz4.ts'

const A = '0x' + 'a1'.repeat(20)
const B = '0x' + 'b2'.repeat(20)

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of chunks) parts.push(c)
  return Buffer.concat(parts)
}

async function decodeText(text: string, options: { fullParse?: boolean; chunk?: number } = {}): Promise<FillBatch> {
  const all: FillBatch = { fills: [], rejected: [], rowsRead: 0, dropped: 0, parsed: 0 }
  for await (const b of decodeFillLines(chunked(new TextEncoder().encode(text), options.chunk ?? 7), { fullParse: options.fullParse, batchFills: 3 })) {
    all.fills.push(...b.fills)
    all.rejected.push(...b.rejected)
    all.rowsRead += b.rowsRead
    all.dropped += b.dropped
    all.parsed += b.parsed
  }
  return all
}

const fill = (overrides: Partial<SourceFill> = {}): SourceFill => ({
  coin: 'HYPE', px: '48.334', sz: '1.87', side: 'B', time: 1761546638019, startPosition: '334.68', dir: 'Open Long',
  closedPnl: '0.0', hash: '0x' + '0'.repeat(64), oid: 213637501487n, crossed: true, fee: '0.040673',
  tid: 990908538720549n, feeToken: 'USDC', twapId: 1305284n, ...overrides,
})

describe('LZ4 frames decompressed as a stream', () => {
  const text = makeFills({ wallets: [A, B], count: 3000 }).map(([u, f], i) => blockLine(i, '2025-10-27T06:30:38.019609515', [[u, f]])).join('\n')
  const bytes = new TextEncoder().encode(text)

  it.each([
    ['independent blocks', {}],
    ['linked blocks', { linked: true }],
    ['block and content checksums, 256 KiB blocks, content size', { blockChecksums: true, blockSize: 5 as const, contentSize: true }],
    ['no content checksum', { contentChecksum: false }],
    ['linked blocks shorter than the 64 KiB window', { linked: true, blockBytes: 10_000 }],
    ['linked 4 MiB blocks', { linked: true, blockSize: 7 as const }],
  ])('gives back the exact bytes with %s, whatever the chunking', async (_name, options) => {
    const frame = await lz4Frame(bytes, options)
    for (const size of [1, 13, 65_536, frame.length]) {
      expect(Buffer.compare(await collect(decompressLz4(chunked(frame, size))), Buffer.from(bytes))).toBe(0)
    }
  })

  it('reads frames back to back and skips skippable frames', async () => {
    const skippable = new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9])
    const joined = Buffer.concat([await lz4Frame('first\n'), skippable, await lz4Frame('second\n', { linked: true })])
    expect(Buffer.from(await collect(decompressLz4(chunked(joined, 5)))).toString()).toBe('first\nsecond\n')
  })

  it('fails a file that is not LZ4, is truncated, or fails a checksum, naming what is wrong', async () => {
    const frame = await lz4Frame(bytes, { blockChecksums: true })
    const fails = (input: Uint8Array) => collect(decompressLz4(chunked(input, 4096)))
    await expect(fails(new TextEncoder().encode('{"block_number": 1}\n'))).rejects.toThrow(new Lz4FrameError('not an LZ4 frame: the file does not start with the LZ4 magic number'))
    await expect(fails(new Uint8Array())).rejects.toThrow('not an LZ4 frame: the input is empty')
    await expect(fails(frame.subarray(0, frame.length - 100))).rejects.toThrow(/^truncated LZ4 frame: the input ends inside the block at byte \d+$/)
    await expect(fails(frame.subarray(0, frame.length - 2))).rejects.toThrow(/^truncated LZ4 frame: the input ends inside the content checksum/)
    const flipped = frame.slice()
    flipped[frame.length - 2000] = flipped[frame.length - 2000]! ^ 0xff
    await expect(fails(flipped)).rejects.toThrow(/^bad LZ4 block checksum at byte \d+$/)
    const content = (await lz4Frame(bytes)).slice()
    content[content.length - 1] = content[content.length - 1]! ^ 0xff
    await expect(fails(content)).rejects.toThrow(/^bad LZ4 content checksum in the frame at byte 0$/)
    const header = frame.slice()
    header[5] = header[5]! ^ 0x01
    await expect(fails(header)).rejects.toThrow(/invalid LZ4 frame descriptor|bad LZ4 header checksum/)
  })

  it('fails a block that does not decode, and one that decodes to more than the frame allows, without checksums to catch them', async () => {
    const { h32Raw } = await xxhash()
    // Independent 64 KiB blocks, no checksums: only the block decoder can notice.
    const frame = (block: number[]) => {
      const descriptor = [0x60, 0x40]
      const word = [block.length & 0xff, (block.length >> 8) & 0xff, (block.length >> 16) & 0xff, 0]
      return new Uint8Array([0x04, 0x22, 0x4d, 0x18, ...descriptor, (h32Raw(new Uint8Array(descriptor), 0) >>> 8) & 0xff, ...word, ...block, 0, 0, 0, 0])
    }
    const fails = (input: Uint8Array) => collect(decompressLz4(chunked(input, 4096)))
    // A literal, then a match 65,535 bytes back in a block that has one byte so far.
    await expect(fails(frame([0x1f, 0x61, 0xff, 0xff, 0x00]))).rejects.toThrow(/^corrupt LZ4 block at byte 7: /)
    // One literal, then a match repeating it 70,000 times: more than a 64 KiB block holds.
    const repeat = 70_000 - 4 - 15
    const match = [...Array<number>(Math.floor(repeat / 255)).fill(255), repeat % 255]
    await expect(fails(frame([0x1f, 0x61, 0x01, 0x00, ...match, 0x50, 0x62, 0x62, 0x62, 0x62, 0x62]))).rejects.toThrow(/^corrupt LZ4 block at byte 7: /)
    // The same frame with a block that is fine decodes.
    expect(Buffer.from(await collect(decompressLz4(chunked(frame([0x50, 0x68, 0x65, 0x6c, 0x6c, 0x6f]), 3)))).toString()).toBe('hello')
  })

  it.runIf(hasLz4Command())('reads what the lz4 command writes, in its default and linked-block modes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hltwap-lz4-'))
    try {
      writeFileSync(join(dir, 'in.jsonl'), bytes)
      for (const flags of [[], ['-BD'], ['-BX', '-B4']]) {
        execFileSync('lz4', ['-q', '-f', ...flags, join(dir, 'in.jsonl'), join(dir, 'out.lz4')])
        const result = decodeFillFile(join(dir, 'out.lz4'))
        let lines = 0
        for await (const b of result) lines += b.rowsRead
        expect(lines).toBe(3000)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function hasLz4Command(): boolean {
  try {
    execFileSync('lz4', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

describe('node fill lines', () => {
  it('keeps only TWAP slice fills, with ids above 2^53 and the raw fill exact', async () => {
    const slice = fill({ oid: 9_007_199_254_740_993n, tid: 18_446_744_073_709_551_615n, twapId: 9_007_199_254_740_995n, cloid: '0x' + 'c'.repeat(32), builderFee: '0.001', liquidation: { markPx: '1.0' } })
    const text = blockLine(776534347, '2025-10-27T06:30:38.019609515', [[A, fill({ twapId: null })], [B.toUpperCase().replace('0X', '0x'), slice]]) + '\n'
    const out = await decodeText(text)
    expect(out.dropped).toBe(1)
    expect(out.rejected).toEqual([])
    expect(out.fills).toEqual([{
      twap_id: '9007199254740995', wallet: B, time: '2025-10-27T06:30:38.019Z', coin: 'HYPE', side: 'B', px: '48.334', sz: '1.87',
      fee: '0.040673', fee_token: 'USDC', builder_fee: '0.001', closed_pnl: '0.0', start_position: '334.68', dir: 'Open Long',
      crossed: true, oid: '9007199254740993', tid: '18446744073709551615', hash: '0x' + '0'.repeat(64),
      block_number: '776534347', block_time: '2025-10-27T06:30:38.019609Z', raw: json(slice),
    }])
  })

  it('reads [user, fill] lines, which have no block', async () => {
    const out = await decodeText(json([A, fill()]) + '\r\n' + json([B, fill({ twapId: null })]))
    expect(out.fills.map((f) => [f.wallet, f.twap_id, f.block_number, f.block_time])).toEqual([[A, '1305284', null, null]])
    expect(out.dropped).toBe(1)
  })

  it('rejects, with its reason and line, a line that is not JSON and a fill without px, sz, time or user or with a bad decimal; the rest lands', async () => {
    const lines = [
      '{"block_number": 1, "events": [["' + A + '", {"twapId": 5, "px": "1"',
      blockLine(2, '2025-10-27T06:30:38', [[A, fill({ px: undefined as unknown as string })], [A, fill({ sz: 'abc' })], [A, fill({ fee: '1.2.3' })]]),
      json([A, { ...fill(), time: undefined }]),
      json(['nobody', fill()]),
      json({ hello: 'world', twapId: 3 }),
      blockLine(3, '2025-10-27T06:30:38', [[A, fill({ tid: 77n })]]),
    ]
    const out = await decodeText(lines.join('\n'))
    expect(out.fills.map((f) => f.tid)).toEqual(['77'])
    expect(out.rejected.map((r) => r.reason)).toEqual([
      expect.stringMatching(/^line 1 is not JSON: /),
      'line 2, event 0: no px (a decimal number)',
      'line 2, event 1: sz "abc" is not a decimal number',
      'line 2, event 2: fee "1.2.3" is not a decimal number',
      'line 3: no time (epoch milliseconds)',
      'line 4: user "nobody" is not 0x + 40 hex digits',
      'line 5 is neither a block ({"block_number", "events": [[user, fill], …]}) nor a [user, fill] pair',
    ])
    expect(out.rejected.map((r) => r.row)).toEqual([0, 1, 1, 1, 2, 3, 4])
  })

  it('finds exactly the TWAP fills a full parse finds without parsing lines that hold none', async () => {
    const fills = makeFills({ wallets: [A, B], count: 4000, twapShare: 0.05, seed: 7 })
    const lines: string[] = []
    for (let i = 0; i < fills.length; i += 3) {
      const events = fills.slice(i, i + 3)
      let line = blockLine(1000 + i, '2025-10-27T06:30:38.1', events)
      // The shapes a substring test could get wrong.
      if (i % 9 === 0) line = line.replace(/"twapId":(\d+)/, '"twapId" :  $1')
      if (i % 11 === 0) line = line.replace(/"twapId":null/, '"twapId": null')
      if (i % 13 === 0) line = line.replace('"feeToken":"USDC"', '"feeToken":"\\"twapId\\":42"')
      if (i % 17 === 0) line = line.replace('"dir":"', '"dir":"twapId ')
      if (i % 19 === 0) line = line.replace('"coin":"', '"coin":"\\u0041')
      lines.push(line)
    }
    lines.push(json([A, { ...fill({ twapId: null }), cloid: '"twapId": 99' }]))
    lines.push('  ' + json([A, fill({ twapId: 0n })]) + '  ')
    const text = lines.join('\n') + '\n'

    const fast = await decodeText(text, { chunk: 4093 })
    const full = await decodeText(text, { fullParse: true, chunk: 4093 })

    expect({ ...fast, parsed: 0 }).toEqual({ ...full, parsed: 0 })
    expect(fast.fills.length).toBe(fills.filter(([, f]) => f.twapId !== null).length + 1)
    expect(fast.dropped).toBe(fills.length - fast.fills.length + 2)
    expect(full.parsed).toBe(lines.length)
    expect(fast.parsed).toBeLessThan(lines.length / 2)
  })
})
