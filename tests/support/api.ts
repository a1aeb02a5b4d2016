import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import type { Registry } from 'prom-client'
import { buildApp } from '#src/api/app.ts'
import { loadConfig, type Config } from '#src/config.ts'
import { STATUS_FIELDS, type StatusField, type TwapEvent } from '#src/decode/event.ts'
import { runEtl, type EtlSummary } from '#src/etl/run.ts'
import type { Db } from '#src/store/db.ts'
import { createTestStore, type TestStore } from './db.ts'
import { blockLine, lz4Frame, type SourceFill } from './lz4.ts'
import { parquetBytes } from './parquet.ts'

/** The wallet most fixtures belong to (lower-case, as stored). */
export const WALLET = '0x' + 'ab'.repeat(20)
export const OTHER_WALLET = '0x' + 'cd'.repeat(20)

/**
 * One TWAP status event with plausible values: a finished 30-minute SOL buy of 100 at an
 * average of 90.5, unless `overrides` says otherwise. Its `raw` is left empty: `loadEvents`
 * writes the event as a parquet row, and the stored raw payload is that row as decoded.
 */
export function twapEvent(overrides: Partial<Omit<TwapEvent, 'raw'>> = {}): TwapEvent {
  return {
    twapId: '123456', wallet: WALLET, ts: '2025-11-03T12:30:00Z', asset: 'SOL', side: 'B',
    sizeRequested: '100.0', sizeExecuted: '100.0', notionalExecuted: '9050.0', status: 'finished',
    durationMinutes: 30, placedAt: '2025-11-03T12:00:00Z', reduceOnly: false, randomize: true,
    ...overrides,
    raw: '',
  }
}

/**
 * A TWAP's two usual events: `activated` at `placedAt` with nothing executed, and
 * `finished` `minutes` later with everything executed.
 */
export function twapLifecycle(twapId: string, placedAt: string, options: { minutes?: number; wallet?: string; asset?: string } = {}): TwapEvent[] {
  const minutes = options.minutes ?? 30
  const finishedAt = new Date(Date.parse(placedAt) + minutes * 60_000).toISOString()
  const common = { twapId, placedAt, durationMinutes: minutes, wallet: options.wallet ?? WALLET, asset: options.asset ?? 'SOL' }
  return [
    twapEvent({ ...common, ts: placedAt, status: 'activated', sizeExecuted: '0.0', notionalExecuted: '0.0' }),
    twapEvent({ ...common, ts: finishedAt, status: 'finished' }),
  ]
}

/**
 * Where `loadEvents` writes its parquet files, one directory per store, so that a key names
 * the same file (the same `local:<hash>/<key>` object) every time. The directory is made for each load
 * and removed after it.
 */
const fixtureDirs = new WeakMap<Db, string>()

const quiet = pino({ level: 'silent' })

/**
 * Publishes `events` as the parquet file `key` and ingests it through the ETL (local-file
 * source: decode, bulk load and ingest log, as `hl-twap etl --local-file` does). Each field
 * is a column named as upstream (`time`, `twap_id`, `state_*`, `status`), so the stored raw
 * payload is that row. Loading the same `key` again publishes a new version of that object,
 * which replaces the rows of the previous one. Throws unless every event was stored or
 * already there, so a fixture the decoder rejects cannot go unnoticed.
 */
export async function loadEvents(db: Db, events: readonly TwapEvent[], key = 'test/fixture.parquet'): Promise<EtlSummary> {
  let dir = fixtureDirs.get(db)
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), 'hltwap-fixtures-'))
    fixtureDirs.set(db, dir)
  }
  const path = join(dir, ...key.split('/'))
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, new Uint8Array(await eventsParquet(events)))
  try {
    // `force`: a rewrite within the same millisecond and of the same size looks unchanged.
    // The directory, which holds only this file: keyed by the path below it, so that `key` is what the key says of its hours.
    const summary = await runEtl({ db, config: testConfig(), logger: quiet }, { source: { kind: 'local', paths: [dir] }, force: true })
    if (summary.objectsFailed || summary.rowsRejected || summary.rowsInserted + summary.rowsDuplicate !== events.length) {
      throw new Error(`fixture ${key} did not load cleanly: ${JSON.stringify({ ...summary, planned: undefined })}`)
    }
    return summary
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Publishes `events` (`[user, fill]` pairs) as the LZ4 node-fills file `key`, one block line
 * per `perBlock` events, and ingests it through the fills ETL as `hl-twap etl --dataset fills
 * --local-file` does. Throws unless every TWAP fill was stored or already there.
 */
export async function loadFills(db: Db, events: readonly (readonly [string, SourceFill])[], key = 'test/fills.lz4', perBlock = 3): Promise<EtlSummary> {
  let dir = fixtureDirs.get(db)
  if (!dir) {
    dir = await mkdtemp(join(tmpdir(), 'hltwap-fixtures-'))
    fixtureDirs.set(db, dir)
  }
  const path = join(dir, ...key.split('/'))
  await mkdir(dirname(path), { recursive: true })
  const lines: string[] = []
  for (let i = 0; i < events.length; i += perBlock) lines.push(blockLine(900_000_000 + i, '2025-10-27T06:30:38.019609515', events.slice(i, i + perBlock)))
  await writeFile(path, await lz4Frame(lines.join('\n') + '\n'))
  try {
    const summary = await runEtl({ db, config: testConfig(), logger: quiet }, { source: { kind: 'local', paths: [dir] }, dataset: 'fills', force: true })
    const twapFills = events.filter(([, f]) => f.twapId !== null).length
    if (summary.objectsFailed || summary.rowsRejected || summary.rowsInserted + summary.rowsDuplicate !== twapFills) {
      throw new Error(`fixture ${key} did not load cleanly: ${JSON.stringify({ ...summary, planned: undefined })}`)
    }
    return summary
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * The events as one parquet file in the upstream column layout, a column for each field of
 * the statuses table: times as ISO strings (the event's `ts` verbatim), `state_timestamp` as
 * epoch milliseconds, decimals as strings; null fields are null cells.
 */
function eventsParquet(events: readonly TwapEvent[]): Promise<ArrayBuffer> {
  return parquetBytes(STATUS_FIELDS.map((f) => ({
    name: f.source,
    type: f.kind === 'id' ? 'STRING' : f.parquet,
    data: events.map((e) => sourceCell(f, (e as unknown as Record<string, unknown>)[f.key] ?? null)),
  })))
}

/** An event's value as its source column holds it; ids as strings, which also hold ids past int64. */
function sourceCell(field: StatusField, value: unknown): unknown {
  if (value === null || field.parquet !== 'INT64' || field.kind === 'id') return value
  return field.kind === 'time' ? BigInt(Date.parse(value as string)) : BigInt(value as string)
}

export interface ConfigChanges {
  api?: Partial<Config['api']>
  health?: Partial<Config['health']>
  etl?: Partial<Config['etl']>
}

/**
 * The default configuration with some API, health or ETL settings changed. Exports at once
 * are 4 rather than the default, which depends on the machine's cores, so tests that
 * export several ranges side by side answer alike everywhere.
 */
export function testConfig(changes: ConfigChanges = {}): Config {
  const base = loadConfig({ EXPORT_MAX_CONCURRENT: '4' })
  return { ...base, api: { ...base.api, ...changes.api }, health: { ...base.health, ...changes.health }, etl: { ...base.etl, ...changes.etl } }
}

export interface TestApi {
  app: FastifyInstance
  store: TestStore
  /** Closes the app, then deletes the store. */
  destroy(): Promise<void>
}

/** A fresh migrated store on the suite's engine and the API over it, driven by `inject`. */
export async function createTestApi(options: ConfigChanges & { registry?: Registry } = {}): Promise<TestApi> {
  const store = await createTestStore()
  const app = await buildApp({ db: store.db, config: testConfig(options), registry: options.registry })
  return {
    app,
    store,
    async destroy() {
      await app.close()
      await store.destroy()
    },
  }
}

/** `/api/v1/twaps` with these query parameters (values URL-encoded). */
export function twapsUrl(query: Record<string, string | number | boolean>): string {
  return '/api/v1/twaps?' + new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString()
}
