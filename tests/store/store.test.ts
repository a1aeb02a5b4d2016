import { afterEach, describe, expect, it } from 'vitest'
import type { TwapEvent } from '#src/decode/event.ts'
import { createLoader } from '#src/store/load.ts'
import { listMigrations, migrate } from '#src/store/migrate.ts'
import { openPostgres } from '#src/store/postgres.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'

const WALLET = '0x' + 'ab'.repeat(20)

function event(overrides: Partial<TwapEvent> = {}): TwapEvent {
  return {
    twapId: '1430699', wallet: WALLET, ts: '2025-12-04T17:00:22.417074Z', asset: 'HYPE', side: 'A',
    sizeRequested: '108.36', sizeExecuted: '0.0', notionalExecuted: '0.0', status: 'activated',
    durationMinutes: 10, placedAt: '2025-12-04T17:00:22.417Z', reduceOnly: false, randomize: false,
    raw: '{"twap_id":1430699}', ...overrides,
  }
}

async function load(store: TestStore, key: string, events: TwapEvent[]) {
  return store.db.transaction(async (tx) => (await createLoader(tx, key)).add(events))
}

describe(`storage on ${engine}`, () => {
  let store: TestStore
  afterEach(() => store?.destroy())

  it('applies the migrations once; running them again changes nothing', async () => {
    store = await createTestStore({ migrated: false })
    expect(await migrate(store.db)).toEqual(listMigrations().map((m) => m.name))
    expect(await migrate(store.db)).toEqual([])
    const { rows } = await store.db.query<{ n: string }>('SELECT count(*) AS n FROM schema_migrations')
    expect(Number(rows[0]!.n)).toBe(listMigrations().length)
  })

  it('records, when upgrading a store, that each stored event is held by the object that loaded it', async () => {
    store = await createTestStore({ migrated: false })
    await migrate(store.db, listMigrations().filter((m) => m.version === 1))
    await store.db.exec(`INSERT INTO twap_status (twap_id, wallet, ts, s3_object_key, raw_payload) VALUES
      ('1', 'w', '2025-11-03T00:00:00Z', 'a.parquet', '{}'), ('2', 'w', '2025-11-03T00:00:00Z', 'b.parquet', '{}')`)

    await migrate(store.db)

    const { rows } = await store.db.query<{ twap_id: string; s3_object_key: string }>(
      `SELECT s.twap_id, o.s3_object_key FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id ORDER BY s.twap_id`)
    expect(rows).toEqual([{ twap_id: '1', s3_object_key: 'a.parquet' }, { twap_id: '2', s3_object_key: 'b.parquet' }])
  })

  it('records, when upgrading a store, the hours each ingested object holds: from its key, else from its rows', async () => {
    store = await createTestStore({ migrated: false })
    await migrate(store.db, listMigrations().filter((m) => m.version <= 4))
    await store.db.exec(`INSERT INTO twap_status (twap_id, wallet, ts, s3_object_key, raw_payload) VALUES
      ('1', 'w', '2025-11-03T05:10:00Z', 'x/2025/08/17/13/a.parquet', '{}'),
      ('2', 'w', '2025-11-03T05:10:00Z', 'local:b.parquet', '{}'), ('3', 'w', '2025-11-03T07:59:00Z', 'local:b.parquet', '{}'),
      ('4', 'w', '2025-11-03T09:00:00Z', 'x/2025/02/30/01/c.parquet', '{}');
      INSERT INTO twap_status_object (s3_object_key, status_id) SELECT s3_object_key, id FROM twap_status;
      INSERT INTO etl_s3_ingest_log (dataset, s3_object_key) VALUES
        ('statuses', 'x/2025/08/17/13/a.parquet'), ('statuses', 'local:b.parquet'), ('statuses', 'x/2025/02/30/01/c.parquet'),
        ('fills', 'node_fills_by_block/hourly/20251027/6.lz4')`)

    await migrate(store.db)

    const { rows } = await store.db.query<{ dataset: string; key: string; hour: string }>(
      `SELECT dataset, s3_object_key AS key, to_char(hour AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24') AS hour
         FROM ingest_coverage ORDER BY dataset, key, hour`)
    expect(rows).toEqual([
      { dataset: 'fills', key: 'node_fills_by_block/hourly/20251027/6.lz4', hour: '2025-10-27 06' },
      { dataset: 'statuses', key: 'local:b.parquet', hour: '2025-11-03 05' },
      { dataset: 'statuses', key: 'local:b.parquet', hour: '2025-11-03 06' },
      { dataset: 'statuses', key: 'local:b.parquet', hour: '2025-11-03 07' },
      { dataset: 'statuses', key: 'x/2025/02/30/01/c.parquet', hour: '2025-11-03 09' },
      { dataset: 'statuses', key: 'x/2025/08/17/13/a.parquet', hour: '2025-08-17 13' },
    ])
  })

  it.runIf(engine === 'postgres')('prepares parameterised statements once per connection, except those planned for their parameters on every call', async () => {
    store = await createTestStore()
    const prepared = 'SELECT count(*) AS n FROM twap_status WHERE wallet = $1'
    const perCall = 'SELECT count(*) AS n FROM twap_status WHERE asset = $1'
    const statements = await store.db.transaction(async (tx) => {
      for (let i = 0; i < 7; i++) {
        await tx.query(prepared, [WALLET])
        await tx.query(perCall, ['HYPE'], { planPerCall: true })
      }
      return (await tx.query<{ statement: string }>('SELECT statement FROM pg_prepared_statements')).rows.map((r) => r.statement)
    })
    expect(statements).toContain(prepared)
    expect(statements).not.toContain(perCall)
  })

  it.runIf(engine === 'postgres')('starts against an up-to-date read-only database (a replica) without writing', async () => {
    store = await createTestStore()
    const url = new URL(store.env.DATABASE_URL!)
    url.searchParams.set('options', '-c default_transaction_read_only=on')
    const replica = await openPostgres(url.toString(), 'hl-twap-test')
    try {
      expect(await migrate(replica)).toEqual([])
      await expect(replica.exec('CREATE TABLE t (x int)')).rejects.toThrow(/read-only/)
    } finally {
      await replica.close()
    }
  })

  it('keeps the columns consumers query, with their names and types', async () => {
    store = await createTestStore()
    const { rows } = await store.db.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'twap_status'`)
    const types = Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]))
    expect(types).toMatchObject({
      twap_id: 'text', wallet: 'text', ts: 'timestamp with time zone', asset: 'text', side: 'text',
      size_requested: 'numeric', size_executed: 'numeric', notional_executed: 'numeric', status: 'text',
      duration_minutes: 'integer', s3_object_key: 'text', raw_payload: 'jsonb', inserted_at: 'timestamp with time zone',
    })
  })

  it('loads a batch twice and stores it once', async () => {
    store = await createTestStore()
    const batch = [event(), event({ status: 'finished', ts: '2025-12-04T17:10:22Z', sizeExecuted: '108.36' })]
    expect(await load(store, 'a.parquet', batch)).toEqual({ inserted: 2, duplicate: 0 })
    expect(await load(store, 'a.parquet', batch)).toEqual({ inserted: 0, duplicate: 2 })
    expect(await load(store, 'b.parquet', [...batch, ...batch])).toEqual({ inserted: 0, duplicate: 4 })
    const { rows } = await store.db.query<{ n: string }>('SELECT count(*) AS n FROM twap_status')
    expect(rows[0]!.n).toBe('2')
  })

  it('keeps the activated and finished events of one TWAP that share a timestamp', async () => {
    store = await createTestStore()
    const ts = '2025-11-03T12:30:00Z'
    await load(store, 'a.parquet', [event({ ts }), event({ ts, status: 'finished', sizeExecuted: '108.36' })])
    const { rows } = await store.db.query<{ status: string; is_terminal: boolean }>(
      'SELECT status, is_terminal FROM twap_status ORDER BY is_terminal')
    expect(rows).toEqual([{ status: 'activated', is_terminal: false }, { status: 'finished', is_terminal: true }])
  })

  it('keeps decimals exact and times to the microsecond', async () => {
    store = await createTestStore()
    await load(store, 'a.parquet', [event({ sizeRequested: '0.1', sizeExecuted: '950.25', notionalExecuted: '123456789012345678901234.000000000001' })])
    const { rows } = await store.db.query(
      `SELECT size_requested, size_executed, notional_executed, ts, size_requested + 0.2 AS sum FROM twap_status`)
    expect(rows[0]).toEqual({
      size_requested: '0.1', size_executed: '950.25', notional_executed: '123456789012345678901234.000000000001',
      ts: '2025-12-04 17:00:22.417074+00', sum: '0.3',
    })
  })

  it('stores text that needs escaping in COPY unchanged', async () => {
    store = await createTestStore()
    const status = 'error: tab\there, newline\nthere, backslash \\ end'
    const raw = JSON.stringify({ status, note: 'quote " and \\ slash' })
    await load(store, 'dir/with\\odd\tkey.parquet', [event({ status, raw })])
    const { rows } = await store.db.query<{ status: string; raw_payload: unknown; s3_object_key: string }>(
      'SELECT status, raw_payload, s3_object_key FROM twap_status')
    expect(rows[0]).toEqual({ status, raw_payload: JSON.parse(raw), s3_object_key: 'dir/with\\odd\tkey.parquet' })
  })

  it('rolls back every row of a batch when the transaction fails', async () => {
    store = await createTestStore()
    await expect(store.db.transaction(async (tx) => {
      await (await createLoader(tx, 'a.parquet')).add([event()])
      throw new Error('crash mid-object')
    })).rejects.toThrow('crash mid-object')
    const { rows } = await store.db.query<{ n: string }>('SELECT count(*) AS n FROM twap_status')
    expect(rows[0]!.n).toBe('0')
  })
})
