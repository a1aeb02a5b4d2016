import { describe, expect, it } from 'vitest'
import { engine } from '../support/db.ts'
import type { SourceEvent } from '../support/parquet.ts'
import { twaps, useEtlHarness } from './harness.ts'

/** `twap_id status`: one event's identity within these tests (each TWAP has two statuses). */
const keyOf = (e: SourceEvent) => `${e.twap_id} ${typeof e.status === 'string' ? e.status : `error: ${e.status.error}`}`
const keysOf = (events: readonly SourceEvent[]) => events.map(keyOf).sort()

describe(`events held by several objects, on ${engine}`, () => {
  const h = useEtlHarness()

  async function storedKeys(): Promise<string[]> {
    const { rows } = await h.db.query<{ k: string }>(`SELECT twap_id || ' ' || status AS k FROM twap_status`)
    return rows.map((r) => r.k).sort()
  }

  /** Each object's events by the membership table, as `twap_id status` keys. */
  async function heldBy(key: string): Promise<string[]> {
    const { rows } = await h.db.query<{ k: string }>(
      `SELECT s.twap_id || ' ' || s.status AS k FROM twap_status_object o JOIN twap_status s ON s.id = o.status_id
        WHERE o.s3_object_key = $1`, [key])
    return rows.map((r) => r.k).sort()
  }

  // 160 events; `a` holds them all, `b` the first 100, and `a` is ingested first so it is
  // the object every shared event was loaded from.
  const all = twaps(5_000_000, 80)
  async function twoOverlapping() {
    const a = await h.putEvents('a.parquet', all)
    await h.run()
    const b = await h.putEvents('b.parquet', all.slice(0, 100))
    const second = await h.run()
    expect(second).toMatchObject({ objectsOk: 1, rowsInserted: 0, rowsDuplicate: 100 })
    expect(await heldBy(a.key)).toEqual(keysOf(all))
    expect(await heldBy(b.key)).toEqual(keysOf(all.slice(0, 100)))
    return { a: a.key, b: b.key }
  }

  it('keeps every event another object still holds when an object is rewritten smaller', async () => {
    const { a, b } = await twoOverlapping()

    await h.putEvents('a.parquet', all.slice(120))
    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 1, objectsSkipped: 1, objectsFailed: 0 })
    expect(h.gets(b)).toBe(1)
    expect(await storedKeys()).toEqual(keysOf([...all.slice(0, 100), ...all.slice(120)]))
    expect(await heldBy(a)).toEqual(keysOf(all.slice(120)))
    expect(await heldBy(b)).toEqual(keysOf(all.slice(0, 100)))
    // The events kept still name the object that loaded them first.
    const { rows } = await h.db.query<{ key: string }>('SELECT DISTINCT s3_object_key AS key FROM twap_status')
    expect(rows).toEqual([{ key: a }])
  })

  it('deletes the shared events once every object holding them is rewritten without them', async () => {
    const { a, b } = await twoOverlapping()
    const replacement = twaps(5_100_000, 3)

    await h.putEvents('a.parquet', all.slice(100))
    await h.putEvents('b.parquet', replacement)
    const summary = await h.run()

    expect(summary).toMatchObject({ objectsOk: 2, objectsFailed: 0 })
    expect(await storedKeys()).toEqual(keysOf([...all.slice(100), ...replacement]))
    expect(await heldBy(a)).toEqual(keysOf(all.slice(100)))
    expect(await heldBy(b)).toEqual(keysOf(replacement))
    const { rows } = await h.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM twap_status_object o WHERE NOT EXISTS (SELECT 1 FROM twap_status s WHERE s.id = o.status_id)')
    expect(rows[0]!.n).toBe(0)
  })

  it('changes nothing when the same objects are ingested again, even with --force', async () => {
    const { a, b } = await twoOverlapping()
    const before = await h.digest()

    expect(await h.run()).toMatchObject({ objectsOk: 0, objectsSkipped: 2, rowsInserted: 0 })
    const forced = await h.run({ force: true })

    expect(forced).toMatchObject({ objectsOk: 2, objectsFailed: 0 })
    expect(await storedKeys()).toEqual(keysOf(all))
    expect(await heldBy(a)).toEqual(keysOf(all))
    expect(await heldBy(b)).toEqual(keysOf(all.slice(0, 100)))
    expect((await h.digest()).rows).toBe(before.rows)
  })
})
