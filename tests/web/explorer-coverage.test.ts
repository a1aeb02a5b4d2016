import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { loadEvents, loadFills, twapLifecycle, WALLET } from '../support/api.ts'
import { chromiumPath, noBrowserReason, textContrast, useExplorer } from '../support/browser.ts'
import { engine } from '../support/db.ts'
import type { SourceFill } from '../support/lz4.ts'

const DAY = 'start=2025-11-03&end=2025-11-03'
const statusKey = (hour: number) => `hourly/2025/11/03/${String(hour).padStart(2, '0')}/part-0.parquet`

let tids = 7000n
function slice(twapId: string, time: string, sz: string): [string, SourceFill] {
  const tid = tids++
  return [WALLET, {
    coin: 'SOL', px: '90.5', sz, side: 'B', time: Date.parse(time), startPosition: '0.0', dir: 'Open Long', closedPnl: '0.0',
    hash: '0x' + '0'.repeat(64), oid: tid + 5_000n, crossed: true, fee: '0.01', tid, feeToken: 'USDC', twapId: BigInt(twapId),
  }]
}

/**
 * A day of status objects, one an hour, with the 11:00 one never ingested; fills for the
 * 10:00 hour only, where one TWAP's slices add up and the other's fall 10 short.
 */
describe.skipIf(!chromiumPath)(`the explorer over a store with an hour missing, in Chromium on ${engine}${noBrowserReason}`, () => {
  const web = useExplorer(async (db) => {
    for (let hour = 0; hour < 24; hour++) {
      if (hour === 11) continue
      const at = `2025-11-03T${String(hour).padStart(2, '0')}:00:00Z`
      const events = hour === 10 ? [...twapLifecycle('10', at), ...twapLifecycle('11', at)] : twapLifecycle(String(hour), at)
      await loadEvents(db, events, statusKey(hour))
    }
    await loadFills(db, [
      slice('10', '2025-11-03T10:05:00Z', '60.0'), slice('10', '2025-11-03T10:20:00Z', '40.0'),
      slice('11', '2025-11-03T10:05:00Z', '90.0'),
    ], 'node_fills_by_block/hourly/20251103/10.lz4')
  })

  async function openDay(): Promise<{ page: Page; errors: string[] }> {
    const { page, errors } = await web.open(`/?wallet=${WALLET}&${DAY}`)
    await expect.poll(() => page.locator('#coverage .coverage-item').count()).toBe(2)
    return { page, errors }
  }

  it('lists the missing hour of the status events in red, with words that say it is missing', async () => {
    const { page, errors } = await openDay()
    const statuses = page.locator('#coverage .coverage-item[data-dataset="statuses"]')
    expect(await statuses.getAttribute('class')).toContain('incomplete')
    expect(await statuses.innerText()).toMatch(/^! TWAP status events: incomplete, 1 hour missing\./)
    const gap = statuses.locator('.gap')
    expect(await gap.allInnerTexts()).toEqual(['Missing 2025-11-03 11:00 to 11:59 UTC (1 hour)'])
    const red = await page.locator('body').evaluate((body) => {
      const view = body.ownerDocument.defaultView
      const probe = body.ownerDocument.createElement('span')
      probe.style.color = view.getComputedStyle(body.ownerDocument.documentElement).getPropertyValue('--error')
      body.append(probe)
      const color = view.getComputedStyle(probe).color
      probe.remove()
      return color
    })
    expect(await gap.evaluate((li) => li.ownerDocument.defaultView.getComputedStyle(li).color)).toBe(red)
    expect(red).toMatch(/^rgb\((1[5-9]\d|2\d\d), \d{1,2}, \d{1,2}\)$/)
    expect(await textContrast(gap)).toBeGreaterThanOrEqual(4.5)

    const fills = page.locator('#coverage .coverage-item[data-dataset="fills"]')
    expect(await fills.innerText()).toMatch(/^! Slice fills: incomplete, 23 hours missing\./)
    expect(await fills.locator('.gap').allInnerTexts()).toEqual([
      'Missing 2025-11-03 00:00 to 09:59 UTC (10 hours)',
      'Missing 2025-11-03 11:00 to 23:59 UTC (13 hours)',
    ])
    expect(await page.locator('#coverage-note').innerText()).toMatch(/named …_incomplete/)
    expect(await page.locator('#coverage-note a').getAttribute('href')).toBe('/api/v1/coverage?start=2025-11-03&end=2025-11-03')
    expect(errors).toEqual([])
    await page.close()
  })

  it('marks the TWAP whose fills fall short as not reconciled, and the one whose fills add up as reconciled', async () => {
    const { page, errors } = await openDay()
    const mark = (twapId: string) => page.locator(`tr[data-twap-id="${twapId}"] .recon`)
    await expect.poll(() => mark('11').getAttribute('data-reconciled')).toBe('false')
    expect(await mark('11').getAttribute('class')).toContain('recon-false')
    expect(await mark('11').getAttribute('title')).toMatch(/^Not reconciled: its fills do not add up/)
    expect(await mark('10').getAttribute('data-reconciled')).toBe('true')
    // No fills cover the other hours, so their TWAPs stay undecided.
    expect(await mark('12').getAttribute('data-reconciled')).toBe('null')
    expect(await textContrast(mark('11'))).toBeGreaterThanOrEqual(4.5)
    expect(errors).toEqual([])
    await page.close()
  })
})
