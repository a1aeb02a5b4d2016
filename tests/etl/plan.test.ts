import { describe, expect, it } from 'vitest'
import { planObjects } from '#src/etl/plan.ts'
import { localKey } from '#src/source/local.ts'
import type { SourceObject } from '#src/source/object.ts'

const object = (key: string): SourceObject => ({ key, size: 1, etag: 'e', lastModified: new Date(0) })

describe('the ingest plan', () => {
  it('loads local files in the order of their names, whatever the hash of their paths', () => {
    // Whichever way the two hashes fall, a-small comes before b-large.
    const names = ['b-large.parquet', 'a-small.parquet', 'c.parquet']
    for (const dir of ['/tmp/x', '/tmp/y', '/srv/data', '/home/u/hl']) {
      const plan = planObjects(names.map((n) => object(localKey(`${dir}/${n}`, n))), new Map())
      expect(plan.fetch.map((o) => o.key.slice(o.key.indexOf('/') + 1))).toEqual(['a-small.parquet', 'b-large.parquet', 'c.parquet'])
    }
  })

  it('loads S3 objects in key order', () => {
    const keys = ['node_fills_by_block/hourly/20250102/3.lz4', 'node_fills_by_block/hourly/20250101/23.lz4', 'node_fills_by_block/hourly/20250102/10.lz4']
    const plan = planObjects(keys.map(object), new Map())
    expect(plan.fetch.map((o) => o.key)).toEqual([...keys].sort())
  })

  it('keeps two files of the same name in different places apart, in a stable order', () => {
    const a = object(localKey('/one/part-0.parquet', 'part-0.parquet'))
    const b = object(localKey('/two/part-0.parquet', 'part-0.parquet'))
    const first = planObjects([a, b], new Map()).fetch.map((o) => o.key)
    expect(planObjects([b, a], new Map()).fetch.map((o) => o.key)).toEqual(first)
    expect(new Set(first).size).toBe(2)
  })
})
