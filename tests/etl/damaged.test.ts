import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parquetMetadata } from 'hyparquet'
import { describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import { mulberry32, writeTwapParquet, type TwapParquetOptions } from '../support/parquet.ts'
import { twaps, useEtlHarness } from './harness.ts'

/** A real file's bytes and where its parts lie: every page header, the page bodies, the footer. */
async function anatomy(options: TwapParquetOptions) {
  const events = twaps(8_000_000, 40)
  const bytes = new Uint8Array(await writeTwapParquet(events, options))
  const metadata = parquetMetadata(bytes.buffer)
  const footerStart = bytes.length - 8 - new DataView(bytes.buffer).getUint32(bytes.length - 8, true)
  const chunkStarts: number[] = []
  for (const group of metadata.row_groups) {
    for (const column of group.columns) {
      const meta = column.meta_data!
      if (meta.dictionary_page_offset) chunkStarts.push(Number(meta.dictionary_page_offset))
      chunkStarts.push(Number(meta.data_page_offset))
    }
  }
  return { events, bytes, footerStart, chunkStarts }
}

/** `bytes` with `mask` flipped at `offset`. */
function flipped(bytes: Uint8Array, offset: number, mask: number): Uint8Array {
  const copy = bytes.slice()
  copy[offset]! ^= mask
  return copy
}

describe(`damaged parquet objects, on ${engine}`, () => {
  const h = useEtlHarness()

  it('fails every single-bit flip of a page header as that object alone, and ingests the good files sorted after them', { timeout: 60_000 }, async () => {
    const { events, bytes, chunkStarts } = await anatomy({ codec: 'SNAPPY' })
    const header = chunkStarts[0]!
    const names: string[] = []
    // The first page header's bytes, each bit: one of them, a missing field, made the
    // decoder loop for ever on one byte.
    for (let offset = header; offset < header + 16; offset++) {
      for (const mask of [0x80, 0x40, 0x08, 0x01]) {
        const name = `a-${offset}-${mask}.parquet`
        await writeFile(join(h.dir, name), flipped(bytes, offset, mask))
        names.push(name)
      }
    }
    await writeFile(join(h.dir, 'z-good.parquet'), bytes)

    const { summary, results } = await h.runReported({ source: { kind: 'local', paths: [h.dir] } })

    expect(summary.objectsOk + summary.objectsFailed).toBe(names.length + 1)
    const good = [...results.values()].find((r) => r.key.endsWith('z-good.parquet'))
    // Flips that change no value leave a file with the same events: those count as duplicates.
    expect(good).toMatchObject({ ok: true, rejected: 0 })
    expect(good!.inserted + good!.duplicate).toBe(events.length)
    for (const result of results.values()) {
      if (!result.ok) expect(result.error).toMatch(/\S/)
      else expect(result.inserted + result.duplicate + result.rejected).toBe(events.length)
    }
    expect(summary.objectsFailed).toBeGreaterThan(0)
    const log = await h.ingestLog()
    expect(log).toHaveLength(names.length + 1)
    for (const row of log) {
      const result = results.get(row.key)!
      expect(row.error_text).toBe(result.ok ? null : result.error)
    }
  })

  it.each([['SNAPPY' as const, 1], ['ZSTD' as const, 2]])('ends every byte flip of a %s file (footer, page headers, dictionary and data pages) as a failed object or an exact count, never a crash', async (codec, seed) => {
    const { events, bytes, footerStart, chunkStarts } = await anatomy({ codec, rowGroupSize: 30 })
    const random = mulberry32(seed)
    const offsets = new Set<number>()
    // Page headers and the first bytes of the pages after them, the footer, and anywhere.
    for (const start of chunkStarts) for (let k = 0; k < 3; k++) offsets.add(start + Math.floor(random() * 40))
    for (let k = 0; k < 40; k++) offsets.add(footerStart + Math.floor(random() * (bytes.length - 8 - footerStart)))
    for (let k = 0; k < 40; k++) offsets.add(4 + Math.floor(random() * (footerStart - 4)))
    let n = 0
    for (const offset of offsets) {
      await writeFile(join(h.dir, `v${String(n++).padStart(4, '0')}-${offset}.parquet`), flipped(bytes, offset, 1 + Math.floor(random() * 255)))
    }

    const { summary, results } = await h.runReported({ source: { kind: 'local', paths: [h.dir] }, concurrency: 4 })

    expect(results.size).toBe(offsets.size)
    expect(summary.objectsOk + summary.objectsFailed).toBe(offsets.size)
    for (const result of results.values()) {
      if (!result.ok) expect(result.error).toMatch(/\S/)
      else expect(result.inserted + result.duplicate + result.rejected).toBe(events.length)
    }
    const log = await h.ingestLog()
    expect(log).toHaveLength(offsets.size)
    expect(log.filter((r) => r.error_text !== null)).toHaveLength(summary.objectsFailed)
  }, 120_000)
})
