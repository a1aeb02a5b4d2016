import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parquetMetadata } from 'hyparquet'
import { describe, expect, it } from 'vitest'
import { decodeParquet, openParquetFile, SchemaError } from '#src/decode/parquet.ts'
import {
  decodeAll, makeEvents, parquetBytes, writeTwapParquet, writeTwapParquetFile,
} from '../support/parquet.ts'
import type { SourceEvent, TimeEncoding } from '../support/parquet.ts'

const WALLET = '0x9d6a0b3c4e5f60718293a4b5c6d7e8f901234ab8'

/** A complete upstream status event. */
function upstreamEvent(overrides: Partial<SourceEvent> = {}): SourceEvent {
  return {
    time: '2025-12-04T17:00:22.417074898',
    twap_id: 1430699n,
    state_coin: 'HYPE',
    state_user: WALLET,
    state_side: 'A',
    state_sz: '108.36',
    state_executedSz: '0.0',
    state_executedNtl: '0.0',
    state_minutes: 10,
    state_reduceOnly: false,
    state_randomize: false,
    state_timestamp: 1764867622417,
    status: 'activated',
    ...overrides,
  }
}

async function decodeOne(event: SourceEvent, options: Parameters<typeof writeTwapParquet>[1] = {}) {
  const { events, rejected } = await decodeAll(await writeTwapParquet([event], options))
  expect(rejected).toEqual([])
  expect(events).toHaveLength(1)
  return events[0]!
}

describe('decodeParquet maps a source row onto a TwapEvent', () => {
  it('decodes the upstream example field by field', async () => {
    const event = await decodeOne(upstreamEvent())
    expect(event).toEqual({
      twapId: '1430699',
      wallet: WALLET,
      ts: '2025-12-04T17:00:22.417074Z',
      asset: 'HYPE',
      side: 'A',
      sizeRequested: '108.36',
      sizeExecuted: '0.0',
      notionalExecuted: '0.0',
      status: 'activated',
      durationMinutes: 10,
      placedAt: '2025-12-04T17:00:22.417Z',
      reduceOnly: false,
      randomize: false,
      raw: expect.any(String),
    })
    expect(JSON.parse(event.raw)).toEqual({
      time: '2025-12-04T17:00:22.417074898Z',
      twap_id: 1430699,
      state_coin: 'HYPE',
      state_user: WALLET,
      state_side: 'A',
      state_sz: '108.36',
      state_executedSz: '0.0',
      state_executedNtl: '0.0',
      state_minutes: 10,
      state_reduceOnly: false,
      state_randomize: false,
      state_timestamp: 1764867622417,
      status: 'activated',
    })
  })

  it('leaves a missing optional column null', async () => {
    const event = await decodeOne(upstreamEvent(), {
      omit: ['state_coin', 'state_side', 'state_sz', 'state_executedSz', 'state_executedNtl', 'status',
        'state_minutes', 'state_reduceOnly', 'state_randomize', 'state_timestamp'],
    })
    expect(event).toMatchObject({
      twapId: '1430699', wallet: WALLET, ts: '2025-12-04T17:00:22.417074Z', asset: null, side: null,
      sizeRequested: null, sizeExecuted: null, notionalExecuted: null, status: null, durationMinutes: null,
      placedAt: null, reduceOnly: null, randomize: null,
    })
  })

  it('finds columns whose names a lake catalog lower-cased', async () => {
    const bytes = await parquetBytes([
      { name: 'twap_id', data: [1n], type: 'INT64' },
      { name: 'state_user', data: [WALLET], type: 'STRING' },
      { name: 'time', data: ['2025-12-04T17:00:22'], type: 'STRING' },
      { name: 'state_executedsz', data: ['1.5'], type: 'STRING' },
    ])
    const { events } = await decodeAll(bytes)
    expect(events[0]).toMatchObject({ sizeExecuted: '1.5' })
    expect(JSON.parse(events[0]!.raw)).toHaveProperty('state_executedsz', '1.5')
  })
})

describe('time encodings', () => {
  const cases: [TimeEncoding, string, string][] = [
    // encoding, ts, `time` in raw
    ['timestamp-ms', '2025-12-04T17:00:22.417Z', '2025-12-04T17:00:22.417Z'],
    ['timestamp-us', '2025-12-04T17:00:22.417074Z', '2025-12-04T17:00:22.417074Z'],
    ['timestamp-ns', '2025-12-04T17:00:22.417074Z', '2025-12-04T17:00:22.417074898Z'],
    ['ms-in-ns-bug', '2025-12-04T17:00:22.417Z', '2025-12-04T17:00:22.417Z'],
  ]
  for (const [timeEncoding, ts, rawTime] of cases) {
    for (const utcAdjusted of [true, false]) {
      it(`reads time as ${timeEncoding} (${utcAdjusted ? 'UTC-adjusted' : 'local'})`, async () => {
        const event = await decodeOne(upstreamEvent(), { timeEncoding, utcAdjusted })
        expect(event.ts).toBe(ts)
        expect(JSON.parse(event.raw).time).toBe(rawTime)
      })
    }
  }

  it('reads time as int64 epoch milliseconds, keeping the number in raw', async () => {
    const event = await decodeOne(upstreamEvent(), { timeEncoding: 'int64-ms' })
    expect(event.ts).toBe('2025-12-04T17:00:22.417Z')
    expect(JSON.parse(event.raw).time).toBe(1764867622417)
  })

  it('reads time as an ISO string without a zone, as UTC, keeping the string in raw', async () => {
    const event = await decodeOne(upstreamEvent(), { timeEncoding: 'iso-string' })
    expect(event.ts).toBe('2025-12-04T17:00:22.417074Z')
    expect(JSON.parse(event.raw).time).toBe('2025-12-04T17:00:22.417074898')
  })

  it('repairs the August 2025 bug (epoch ms in a timestamp[ns] column) for every row, never storing 1970', async () => {
    const source = makeEvents({ wallets: 3, twapsPerWallet: 5, start: '2025-08-17T00:00:00Z', seed: 7 })
    const { events, rejected } = await decodeAll(await writeTwapParquet(source, {
      timeEncoding: 'ms-in-ns-bug', placedEncoding: 'ms-in-ns-bug',
    }))
    expect(rejected).toEqual([])
    expect(events).toHaveLength(source.length)
    for (const event of events) {
      expect(event.ts.startsWith('2025-08-')).toBe(true)
      expect(event.placedAt?.startsWith('2025-08-')).toBe(true)
      expect(event.raw).not.toContain('1970-')
    }
  })

  it('uses state_timestamp as ts when the file has no time column', async () => {
    const event = await decodeOne(upstreamEvent({ status: 'finished' }), { timeEncoding: 'none' })
    expect(event.ts).toBe('2025-12-04T17:00:22.417Z')
    expect(event.placedAt).toBe('2025-12-04T17:00:22.417Z')
    expect(JSON.parse(event.raw)).not.toHaveProperty('time')
  })

  it('falls back to state_timestamp for a row whose time is null', async () => {
    const bytes = await parquetBytes([
      { name: 'twap_id', data: [1n, 2n], type: 'INT64' },
      { name: 'state_user', data: [WALLET, WALLET], type: 'STRING' },
      { name: 'time', data: ['2025-12-04T17:05:00', null], type: 'STRING' },
      { name: 'state_timestamp', data: [1764867622417n, 1764867622417n], type: 'INT64' },
    ])
    const { events } = await decodeAll(bytes)
    expect(events.map((e) => e.ts)).toEqual(['2025-12-04T17:05:00Z', '2025-12-04T17:00:22.417Z'])
  })

  it('reads state_timestamp stored as a parquet timestamp', async () => {
    const event = await decodeOne(upstreamEvent(), { placedEncoding: 'timestamp-ms' })
    expect(event.placedAt).toBe('2025-12-04T17:00:22.417Z')
    expect(JSON.parse(event.raw).state_timestamp).toBe('2025-12-04T17:00:22.417Z')
  })
})

describe('number encodings', () => {
  it('keeps decimal strings exact: "0.1" stays "0.1"', async () => {
    const event = await decodeOne(upstreamEvent({ state_sz: '0.1', state_executedSz: '0.10', state_executedNtl: '9050.000001' }))
    expect([event.sizeRequested, event.sizeExecuted, event.notionalExecuted]).toEqual(['0.1', '0.10', '9050.000001'])
  })

  it('writes float64 as its shortest round-trip decimal: 950.25 → "950.25"', async () => {
    const event = await decodeOne(upstreamEvent({ state_sz: '950.25', state_executedSz: '0.1', state_executedNtl: '0.0000001' }),
      { numberEncoding: 'float64' })
    expect([event.sizeRequested, event.sizeExecuted, event.notionalExecuted]).toEqual(['950.25', '0.1', '0.0000001'])
    expect(JSON.parse(event.raw).state_sz).toBe(950.25)
  })

  it('writes int64 as its digits', async () => {
    const event = await decodeOne(upstreamEvent({ state_sz: '100', state_executedSz: '100', state_executedNtl: '9050' }),
      { numberEncoding: 'int64' })
    expect([event.sizeRequested, event.sizeExecuted, event.notionalExecuted]).toEqual(['100', '100', '9050'])
  })

  it('reads parquet DECIMAL columns exactly, never through a float', async () => {
    const bytes = await parquetBytes([
      { name: 'twap_id', data: [1n, 2n], type: 'INT64' },
      { name: 'state_user', data: [WALLET, WALLET], type: 'STRING' },
      { name: 'time', data: ['2025-12-04T17:00:00', '2025-12-04T17:00:00'], type: 'STRING' },
      { name: 'state_sz', data: [12345678901234567n, -5n] },
      { name: 'state_executedSz', data: [108360000000000000000n, -1n] },
    ], {
      overrides: {
        state_sz: { name: 'state_sz', type: 'INT64', repetition_type: 'OPTIONAL', converted_type: 'DECIMAL', precision: 18, scale: 8 },
        state_executedSz: {
          name: 'state_executedSz', type: 'FIXED_LEN_BYTE_ARRAY', type_length: 16, repetition_type: 'OPTIONAL',
          converted_type: 'DECIMAL', precision: 38, scale: 18,
        },
      },
    })
    const { events } = await decodeAll(bytes)
    expect(events.map((e) => e.sizeRequested)).toEqual(['123456789.01234567', '-0.00000005'])
    expect(events.map((e) => e.sizeExecuted)).toEqual(['108.360000000000000000', '-0.000000000000000001'])
    expect(JSON.parse(events[0]!.raw).state_sz).toBe('123456789.01234567')
  })

  it('turns NaN and Infinity into null', async () => {
    const bytes = await parquetBytes([
      { name: 'twap_id', data: [1n, 2n], type: 'INT64' },
      { name: 'state_user', data: [WALLET, WALLET], type: 'STRING' },
      { name: 'time', data: ['2025-12-04T17:00:00', '2025-12-04T17:00:00'], type: 'STRING' },
      { name: 'state_sz', data: [Number.NaN, Number.POSITIVE_INFINITY], type: 'DOUBLE' },
    ])
    const { events } = await decodeAll(bytes)
    expect(events.map((e) => e.sizeRequested)).toEqual([null, null])
    expect(JSON.parse(events[0]!.raw).state_sz).toBeNull()
  })
})

describe('twap_id encodings', () => {
  it('reads an int64 twap_id as its digits', async () => {
    expect((await decodeOne(upstreamEvent(), { twapIdEncoding: 'int64' })).twapId).toBe('1430699')
  })

  it('reads a string twap_id as its digits', async () => {
    const event = await decodeOne(upstreamEvent(), { twapIdEncoding: 'string' })
    expect(event.twapId).toBe('1430699')
    expect(JSON.parse(event.raw).twap_id).toBe('1430699')
  })

  it('keeps an int64 beyond 2^53 exact, in twapId and as a string in raw', async () => {
    const event = await decodeOne(upstreamEvent({ twap_id: 2n ** 62n + 1n }))
    expect(event.twapId).toBe('4611686018427387905')
    expect(JSON.parse(event.raw).twap_id).toBe('4611686018427387905')
  })
})

describe('compression and layout', () => {
  const source = makeEvents({ wallets: 4, twapsPerWallet: 6, seed: 11 })

  for (const codec of ['SNAPPY', 'ZSTD', 'UNCOMPRESSED'] as const) {
    it(`reads ${codec} files`, async () => {
      const bytes = await writeTwapParquet(source, { codec })
      expect(parquetMetadata(bytes).row_groups[0]!.columns[0]!.meta_data!.codec).toBe(codec)
      const { events, rejected } = await decodeAll(bytes)
      expect(rejected).toEqual([])
      expect(events.map((e) => e.twapId)).toEqual(source.map((e) => e.twap_id.toString()))
    })
  }

  it('reads every row group, in order, and yields batches of at most batchRows rows', async () => {
    const bytes = await writeTwapParquet(source, { rowGroupSize: 7, codec: 'ZSTD' })
    expect(parquetMetadata(bytes).row_groups.length).toBe(Math.ceil(source.length / 7))
    const { events, batches } = await decodeAll(bytes, { batchRows: 10 })
    expect(events.map((e) => e.ts)).toEqual(source.map((e) => `${e.time.slice(0, 26).replace(/0+$/, '')}Z`))
    expect(batches.every((b) => b.rowsRead <= 10 && b.rowsRead === b.events.length + b.rejected.length)).toBe(true)
    expect(batches.reduce((n, b) => n + b.rowsRead, 0)).toBe(source.length)
  })

  it('writes test files the way lake tools do: strings dictionary-encoded', async () => {
    const bytes = await writeTwapParquet(source)
    const wallets = parquetMetadata(bytes).row_groups[0]!.columns.find((c) => c.meta_data!.path_in_schema[0] === 'state_user')
    expect(wallets!.meta_data!.encodings).toContain('RLE_DICTIONARY')
  })

  it('reads a local file through openParquetFile', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'decode-'))
    try {
      const path = join(dir, 'twap.parquet')
      await writeTwapParquetFile(path, source, { rowGroupSize: 10 })
      const events = []
      for await (const batch of decodeParquet(await openParquetFile(path))) events.push(...batch.events)
      expect(events).toHaveLength(source.length)
    } finally {
      await rm(dir, { recursive: true })
    }
  })
})

describe('status', () => {
  const error = { error: 'Insufficient margin to place order.' }

  it('reads a nested error written as JSON text', async () => {
    expect((await decodeOne(upstreamEvent({ status: error }))).status).toBe('error: Insufficient margin to place order.')
  })

  it('reads a nested error from a JSON column, keeping the object in raw', async () => {
    const event = await decodeOne(upstreamEvent({ status: error }), { statusEncoding: 'json' })
    expect(event.status).toBe('error: Insufficient margin to place order.')
    expect(JSON.parse(event.raw).status).toEqual(error)
  })

  it('reads a nested error from a VARIANT column beside plain statuses', async () => {
    const { events } = await decodeAll(await writeTwapParquet(
      [upstreamEvent(), upstreamEvent({ status: error, time: '2025-12-04T17:00:24' })], { statusEncoding: 'variant' }))
    expect(events.map((e) => e.status)).toEqual(['activated', 'error: Insufficient margin to place order.'])
    expect(JSON.parse(events[1]!.raw).status).toEqual(error)
  })

  it('keeps an error already written as text, and older words such as completed', async () => {
    expect((await decodeOne(upstreamEvent({ status: 'error: Insufficient margin' }))).status).toBe('error: Insufficient margin')
    expect((await decodeOne(upstreamEvent({ status: 'completed' }))).status).toBe('completed')
  })
})

describe('wallets and raw payload', () => {
  it('lower-cases a mixed-case wallet (raw keeps what the file says)', async () => {
    const event = await decodeOne(upstreamEvent({ state_user: '0x9D6A0B3C4E5F60718293A4B5C6D7E8F901234AB8' }))
    expect(event.wallet).toBe(WALLET)
    expect(JSON.parse(event.raw).state_user).toBe('0x9D6A0B3C4E5F60718293A4B5C6D7E8F901234AB8')
  })

  it('keeps unknown extra columns in raw, int64 beyond 2^53 exact', async () => {
    const event = await decodeOne(upstreamEvent(), {
      extraColumns: [
        { name: 'builder', data: ['0xabc'], type: 'STRING' },
        { name: 'oid', data: [2n ** 63n - 1n], type: 'INT64' },
        { name: 'small', data: [2n ** 53n - 1n], type: 'INT64' },
        { name: 'meta', data: [{ source: 'node', seq: 3 }], type: 'JSON' },
      ],
    })
    const raw = JSON.parse(event.raw)
    expect(raw.builder).toBe('0xabc')
    expect(raw.oid).toBe('9223372036854775807')
    expect(raw.small).toBe(9007199254740991)
    expect(raw.meta).toEqual({ source: 'node', seq: 3 })
  })
})

describe('rejected rows', () => {
  it('reports each unusable row with its index and reason, and decodes the rest', async () => {
    const bytes = await parquetBytes([
      { name: 'twap_id', data: ['1', null, '', '4', '5', '6', 'x7'], type: 'STRING' },
      { name: 'state_user', data: [WALLET, WALLET, WALLET, '0x123', null, WALLET, WALLET], type: 'STRING' },
      { name: 'time', data: [1764867622417n, 1764867622417n, 1764867622417n, 1764867622417n, 1764867622417n, 0n, 1764867622417n], type: 'INT64' },
      { name: 'state_timestamp', data: [null, null, null, null, null, 1764867n, null], type: 'INT64' },
    ], { rowGroupSize: 3 })
    const { events, rejected, batches } = await decodeAll(bytes)
    expect(events.map((e) => e.twapId)).toEqual(['1'])
    expect(rejected).toEqual([
      { row: 1, reason: 'missing twap_id' },
      { row: 2, reason: 'missing twap_id' },
      { row: 3, reason: 'invalid wallet in state_user "0x123": expected 0x and 40 hex digits' },
      { row: 4, reason: 'missing state_user (wallet)' },
      { row: 5, reason: 'no usable time: time=0, state_timestamp=1764867 (need an instant between 2000 and 2100)' },
      { row: 6, reason: 'invalid twap_id "x7"' },
    ])
    expect(batches.reduce((n, b) => n + b.rowsRead, 0)).toBe(7)
  })
})

describe('unusable files', () => {
  it('names every missing required column in a SchemaError', async () => {
    const bytes = await parquetBytes([{ name: 'state_coin', data: ['BTC'], type: 'STRING' }])
    const error = await decodeAll(bytes).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SchemaError)
    expect((error as SchemaError).message).toMatch(/^missing required columns: twap_id, state_user, time or state_timestamp/)
    expect((error as SchemaError).missing).toEqual(['twap_id', 'state_user', 'time or state_timestamp'])
  })

  it('needs only one of time and state_timestamp', async () => {
    const bytes = await writeTwapParquet([upstreamEvent()], { omit: ['state_user'], timeEncoding: 'none' })
    await expect(decodeAll(bytes)).rejects.toThrow('missing required columns: state_user (file has:')
  })

  it('says a file that is not parquet is not parquet', async () => {
    const text = new TextEncoder().encode('twap_id,state_user\n1,0xabc\n'.repeat(10))
    await expect(decodeAll(text.buffer)).rejects.toThrow(/^not a parquet file: it does not end with the PAR1 magic bytes/)
    await expect(decodeAll(new ArrayBuffer(0))).rejects.toThrow(/^not a parquet file: 0 bytes/)
  })

  it('says a parquet file with a truncated or damaged footer is corrupt', async () => {
    const bytes = new Uint8Array(await writeTwapParquet([upstreamEvent()]))
    const damaged = bytes.slice()
    damaged.fill(0xff, damaged.length - 60, damaged.length - 8)
    await expect(decodeAll(damaged.buffer)).rejects.toThrow(/^corrupt parquet footer: /)
    const cut = bytes.slice(0, 40)
    cut.set([0x50, 0x41, 0x52, 0x31], 36)
    await expect(decodeAll(cut.buffer)).rejects.toThrow(/^corrupt parquet footer: /)
  })

  it('says which row group holds corrupt data', async () => {
    const source = makeEvents({ wallets: 2, twapsPerWallet: 10, seed: 5 })
    const bytes = new Uint8Array(await writeTwapParquet(source, { rowGroupSize: 20, codec: 'SNAPPY' }))
    const metadata = parquetMetadata(bytes.buffer)
    const chunk = metadata.row_groups[1]!.columns[3]!.meta_data!
    const start = Number(chunk.dictionary_page_offset ?? chunk.data_page_offset)
    bytes.fill(0xee, start, start + Number(chunk.total_compressed_size))
    await expect(decodeAll(bytes.buffer)).rejects.toThrow(/^corrupt parquet data in row group 1 \(rows 20–/)
  })
})
