import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCheck } from '#src/check.ts'
import { runEtl } from '#src/etl/run.ts'
import { registerCompletenessGauges } from '#src/metrics.ts'
import { readCompleteness } from '#src/store/completeness.ts'
import { createTestApi, loadEvents, loadFills, testConfig, twapLifecycle, WALLET, type TestApi } from '../support/api.ts'
import { engine } from '../support/db.ts'
import type { SourceFill } from '../support/lz4.ts'

/** The value of one sample in Prometheus text; undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')
  const prefix = wanted ? `${name}{${wanted}} ` : `${name} `
  const line = text.split('\n').find((l) => l.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}

let tids = 70_000n
function slice(twapId: string, time: string, sz: string): [string, SourceFill] {
  const tid = tids++
  return [WALLET, {
    coin: 'SOL', px: '90.5', sz, side: 'B', time: Date.parse(time), startPosition: '0.0', dir: 'Open Long', closedPnl: '0.0',
    hash: '0x' + '0'.repeat(64), oid: tid + 5_000n, crossed: true, fee: '0.01', tid, feeToken: 'USDC', twapId: BigInt(twapId),
  }]
}

const statusKey = (hour: number) => `hourly/2025/11/03/${hour}/part-0.parquet`
const fillsKey = (hour: number) => `node_fills_by_block/hourly/20251103/${hour}.lz4`

describe(`completeness gauges in /metrics, on ${engine}`, () => {
  let api: TestApi
  let dir: string
  beforeAll(async () => {
    api = await createTestApi()
    dir = await mkdtemp(join(tmpdir(), 'hltwap-completeness-'))
  })
  afterAll(async () => {
    await api?.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  const scrape = async () => {
    const res = await api.app.inject('/metrics')
    expect(res.statusCode).toBe(200)
    return res.body
  }

  it('are zero on an empty store, and say when they were read', async () => {
    const before = Date.now() / 1000
    const text = await scrape()
    for (const dataset of ['statuses', 'fills']) {
      for (const name of ['covered_hours', 'missing_hours', 'gaps', 'failed_objects']) expect(sample(text, `hltwap_coverage_${name}`, { dataset })).toBe(0)
    }
    expect(sample(text, 'hltwap_twaps_unreconciled')).toBe(0)
    expect(sample(text, 'hltwap_twaps_undecided')).toBe(0)
    expect(text).toContain('# TYPE hltwap_coverage_missing_hours gauge')
    expect(sample(text, 'hltwap_completeness_read_timestamp_seconds')).toBeGreaterThanOrEqual(Math.floor(before))
  })

  it('count what hl-twap check reports: gaps, missing hours, failed objects, unreconciled TWAPs', async () => {
    const db = api.store.db
    // Statuses: hours 10, 11 and 14 (12 and 13 missing), and a broken object of hour 15.
    // TWAP 1 reconciles, TWAP 2's fills fall 10 short, TWAP 3 (hour 11) has no fills hour.
    await loadEvents(db, [...twapLifecycle('1', '2025-11-03T10:00:00Z'), ...twapLifecycle('2', '2025-11-03T10:00:00Z')], statusKey(10))
    await loadEvents(db, twapLifecycle('3', '2025-11-03T11:00:00Z'), statusKey(11))
    await loadEvents(db, twapLifecycle('4', '2025-11-03T14:00:00Z'), statusKey(14))
    const broken = join(dir, ...statusKey(15).split('/'))
    await mkdir(join(broken, '..'), { recursive: true })
    await writeFile(broken, 'these bytes are not a parquet file')
    const failed = await runEtl({ db, config: testConfig(), logger: pino({ level: 'silent' }) }, { source: { kind: 'local', paths: [broken] } })
    expect(failed.objectsFailed).toBe(1)
    // Fills: hours 10 and 12, so hour 11 is a gap inside their span.
    await loadFills(db, [slice('1', '2025-11-03T10:05:00Z', '100.0'), slice('2', '2025-11-03T10:05:00Z', '90.0')], fillsKey(10))
    await loadFills(db, [], fillsKey(12))

    const text = await scrape()
    const check = await runCheck(db, { datasets: ['statuses', 'fills'] })

    const gauges = {
      statuses: { covered: 3, missing: 2, gaps: 1, failed: 1 },
      fills: { covered: 2, missing: 1, gaps: 1, failed: 0 },
    }
    for (const [dataset, g] of Object.entries(gauges)) {
      expect(sample(text, 'hltwap_coverage_covered_hours', { dataset })).toBe(g.covered)
      expect(sample(text, 'hltwap_coverage_missing_hours', { dataset })).toBe(g.missing)
      expect(sample(text, 'hltwap_coverage_gaps', { dataset })).toBe(g.gaps)
      expect(sample(text, 'hltwap_coverage_failed_objects', { dataset })).toBe(g.failed)
      expect(check.lines).toContainEqual(expect.stringMatching(new RegExp(`^${dataset}: ${g.covered} hour\\(s\\) covered .*, ${g.missing} missing, ${g.failed} failed object\\(s\\)$`)))
      expect(check.lines.filter((l) => l.startsWith('  gap:')).length).toBe(gauges.statuses.gaps + gauges.fills.gaps)
    }
    expect(sample(text, 'hltwap_twaps_unreconciled')).toBe(1)
    expect(check.lines).toContain('unreconciled TWAPs: 1')
    // TWAP 3 lives in hour 11, inside the fills' span and without fills: undecided. TWAP 4
    // (hour 14) is past the fills' span, where every TWAP waits for fills: not counted.
    expect(sample(text, 'hltwap_twaps_undecided')).toBe(1)
    expect(check.problems).toBe(gauges.statuses.gaps + gauges.fills.gaps + gauges.statuses.failed + 1)
  })

  it('keep their last values when the store does not answer in time, and /metrics still answers', async () => {
    const registry = new Registry()
    let reads = 0
    registerCompletenessGauges(registry, () => {
      reads++
      // The first read is the store's; the next one never answers, like a frozen database.
      return reads === 1 ? readCompleteness(api.store.db, ['statuses', 'fills']) : new Promise(() => {})
    }, { timeoutMs: 200 })
    const first = await registry.metrics()
    const readAt = sample(first, 'hltwap_completeness_read_timestamp_seconds')!
    expect(sample(first, 'hltwap_coverage_missing_hours', { dataset: 'statuses' })).toBe(2)

    const started = Date.now()
    const second = await registry.metrics()

    expect(Date.now() - started).toBeLessThan(2_000)
    expect(reads).toBe(2)
    expect(sample(second, 'hltwap_coverage_missing_hours', { dataset: 'statuses' })).toBe(2)
    expect(sample(second, 'hltwap_twaps_unreconciled')).toBe(1)
    expect(sample(second, 'hltwap_completeness_read_timestamp_seconds')).toBe(readAt)
  })
})
