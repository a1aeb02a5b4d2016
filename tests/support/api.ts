import type { Registry } from 'prom-client'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/api/app.ts'
import { loadConfig, type Config } from '../../src/config.ts'
import type { TwapEvent } from '../../src/decode/event.ts'
import type { Db } from '../../src/store/db.ts'
import { createLoader } from '../../src/store/load.ts'
import { createTestStore, type TestStore } from './db.ts'

/** The wallet most fixtures belong to (lower-case, as stored). */
export const WALLET = '0x' + 'ab'.repeat(20)
export const OTHER_WALLET = '0x' + 'cd'.repeat(20)

/**
 * One TWAP status event with plausible values: a finished 30-minute SOL buy of 100 at an
 * average of 90.5, unless `overrides` says otherwise. `raw` mirrors the fields given.
 */
export function twapEvent(overrides: Partial<TwapEvent> = {}): TwapEvent {
  const event: TwapEvent = {
    twapId: '123456', wallet: WALLET, ts: '2025-11-03T12:30:00Z', asset: 'SOL', side: 'B',
    sizeRequested: '100.0', sizeExecuted: '100.0', notionalExecuted: '9050.0', status: 'finished',
    durationMinutes: 30, placedAt: '2025-11-03T12:00:00Z', reduceOnly: false, randomize: true, raw: '',
    ...overrides,
  }
  if (!overrides.raw) {
    event.raw = JSON.stringify({
      twap_id: event.twapId, state_user: event.wallet, state_coin: event.asset, state_side: event.side,
      state_sz: event.sizeRequested, state_executedSz: event.sizeExecuted, state_executedNtl: event.notionalExecuted,
      status: event.status, state_minutes: event.durationMinutes, time: event.ts,
    })
  }
  return event
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

/** Stores `events` as the ETL would, as if read from the object `key`. */
export async function loadEvents(db: Db, events: readonly TwapEvent[], key = 'test/fixture.parquet'): Promise<void> {
  await db.transaction(async (tx) => (await createLoader(tx, key)).add(events))
}

export interface ConfigChanges {
  api?: Partial<Config['api']>
  health?: Partial<Config['health']>
}

/** The default configuration with some API or health settings changed. */
export function testConfig(changes: ConfigChanges = {}): Config {
  const base = loadConfig({})
  return { ...base, api: { ...base.api, ...changes.api }, health: { ...base.health, ...changes.health } }
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
