import type { BrowserContextOptions, Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { SAMPLE_WALLETS } from '#src/sample.ts'
import { accessibleNode, chromiumPath, loadSample, noBrowserReason, textContrast, useExplorer } from '../support/browser.ts'
import { engine } from '../support/db.ts'

const WALLET = SAMPLE_WALLETS[0]
const RANGE = 'start=2025-11-01&end=2025-11-30'
const PHONE = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }

/** Errors a page reported other than the failed requests a test provokes on purpose. */
const unexpected = (errors: string[]) => errors.filter((e) => !/Failed to load resource: the server responded with a status of 422/.test(e))

describe.skipIf(!chromiumPath)(`the explorer on a phone, in light and dark, from the keyboard, in Chromium on ${engine}${noBrowserReason}`, () => {
  const web = useExplorer(loadSample)
  const openPage = (path: string, options: BrowserContextOptions = {}) => web.open(path, options)

  const rows = (page: Page) => page.locator('#twaps tbody tr:not(.detail)')

  /** The sample wallet holding a TWAP whose verdict is not decided yet (one still running). */
  async function walletWithUndecided(): Promise<string> {
    for (const wallet of SAMPLE_WALLETS) {
      const { twaps } = (await web.app.inject(`/api/v1/twaps?wallet=${wallet}&${RANGE}&limit=5000`)).json<{ twaps: { reconciled: boolean | null }[] }>()
      if (twaps.some((t) => t.reconciled === null)) return wallet
    }
    throw new Error('no sample wallet has a TWAP not decided yet')
  }
  const box = async (page: Page, selector: string) => {
    const found = await page.locator(selector).first().boundingBox()
    if (!found) throw new Error(`${selector} is not shown`)
    return found
  }

  it('fits a 375 px phone: the form stacks and works, the table scrolls inside its box, the page never sideways', async () => {
    const { page, errors } = await openPage('/', PHONE)
    for (const field of ['#wallet', '#preset', '#start', '#end', '#asset', 'button[type="submit"]']) {
      const { x, width } = await box(page, field)
      expect(x, field).toBeGreaterThanOrEqual(0)
      expect(x + width, field).toBeLessThanOrEqual(375)
      expect(width, field).toBeGreaterThanOrEqual(120)
    }
    await page.locator('#wallet').tap()
    await page.keyboard.type(WALLET)
    await page.fill('#start', '2025-11-01')
    await page.fill('#end', '2025-11-30')
    await page.locator('button[type="submit"]').tap()
    await expect.poll(() => rows(page).count()).toBeGreaterThan(10)
    await rows(page).first().locator('.toggle').tap()
    await expect.poll(() => page.locator('#twaps .fills-table').count()).toBe(1)
    await expect.poll(() => page.locator('#coverage .coverage-item').count()).toBe(2)

    const widths = await page.locator('html').evaluate((html) => {
      const wrap = html.ownerDocument.querySelector('.table-wrap')
      return { page: html.scrollWidth, view: html.clientWidth, table: wrap.scrollWidth, wrap: wrap.clientWidth, overflow: html.ownerDocument.defaultView.getComputedStyle(wrap).overflowX }
    })
    expect(widths.view).toBe(375)
    expect(widths.page).toBeLessThanOrEqual(widths.view)
    expect(widths.table).toBeGreaterThan(widths.wrap)
    expect(widths.overflow).toBe('auto')
    const wrap = await box(page, '.table-wrap')
    expect(wrap.x + wrap.width).toBeLessThanOrEqual(375)
    // The table's box is a named region a keyboard can scroll.
    expect(await page.getAttribute('.table-wrap', 'tabindex')).toBe('0')
    expect((await accessibleNode(page, '.table-wrap')).name).toMatch(/TWAPs/)
    if (process.env.EXPLORER_SCREENSHOT_PHONE) await page.screenshot({ path: process.env.EXPLORER_SCREENSHOT_PHONE, fullPage: true })
    expect(errors).toEqual([])
    await page.close()
  })

  it('follows the system\'s light or dark preference, every text on its background at a contrast of 4.5 or more', async () => {
    const backgrounds: Record<string, string> = {}
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`, { colorScheme })
      await expect.poll(() => rows(page).count()).toBeGreaterThan(10)
      await expect.poll(() => page.locator('#summary .card').count()).toBe(5)
      await expect.poll(() => page.locator('#coverage .gap').count()).toBeGreaterThan(0)
      await rows(page).first().locator('.toggle').click()
      await expect.poll(() => page.locator('#twaps .fills-table tbody tr').count()).toBeGreaterThan(0)
      await page.fill('#asset', 'BTC')
      await page.fill('#wallet', '0x12')
      backgrounds[colorScheme] = await page.locator('body').evaluate((body) => body.ownerDocument.defaultView.getComputedStyle(body).backgroundColor)

      const texts = [
        'h1', '.tagline', 'label[for="wallet"]', '.optional', '#wallet', '#asset', '#preset', '#wallet-error', 'button[type="submit"]',
        '#results-title', '#results-meta', '.card h3', '.card .value', '.card .sub', '.downloads a', '#coverage h3',
        '.coverage-item strong', '.coverage-item.incomplete', '.gap', '#coverage-note', '#coverage-note a', '.chart-box figcaption',
        '.u-legend th', '#twaps thead th', '#twaps tbody td', '.toggle', '.badge-finished', '.badge-activated', '.badge-terminated',
        '.recon-true', '.detail h3', '.event-list td', '.fills-table th', '.fills-table td', '.detail .meta a', '#health',
      ]
      for (const selector of texts) {
        const found = page.locator(selector)
        expect(await found.count(), `${colorScheme}: ${selector} is on the page`).toBeGreaterThan(0)
        expect(await textContrast(found.first()), `${colorScheme}: ${selector}`).toBeGreaterThanOrEqual(4.5)
      }
      expect(errors).toEqual([])
      await page.close()

      // The mark of a TWAP not decided yet, on the page of the sample wallet that has one.
      const holder = await walletWithUndecided()
      const other = await openPage(`/?wallet=${holder}&${RANGE}`, { colorScheme })
      const undecided = other.page.locator('.recon-null')
      await expect.poll(() => undecided.count()).toBeGreaterThan(0)
      expect(await textContrast(undecided.first()), `${colorScheme}: .recon-null`).toBeGreaterThanOrEqual(4.5)
      expect(other.errors).toEqual([])
      await other.page.close()
    }
    expect(backgrounds.light).toBe('rgb(255, 255, 255)')
    expect(backgrounds.dark).not.toBe(backgrounds.light)
    const [r, g, b] = (backgrounds.dark?.match(/\d+/g) ?? []).map(Number)
    expect(Math.max(r!, g!, b!)).toBeLessThan(64)
  })

  it('opens and closes a TWAP\'s row from the keyboard alone, Tab to reach it, Space and Enter to toggle, with its focus ring in view', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`, { colorScheme })
      await expect.poll(() => rows(page).count()).toBeGreaterThan(10)
      await expect.poll(() => page.locator('#downloads a').count()).toBeGreaterThan(0)
      const first = rows(page).first()
      const twapId = await first.getAttribute('data-twap-id')
      let presses = 0
      while (!(await first.locator('.toggle').evaluate((toggle) => toggle === toggle.ownerDocument.activeElement)) && presses < 80) {
        await page.keyboard.press('Tab')
        presses++
      }
      expect(presses, 'Tab reaches the first row\'s toggle').toBeLessThan(80)

      const ring = await first.locator('.toggle').evaluate((toggle) => {
        const style = toggle.ownerDocument.defaultView.getComputedStyle(toggle)
        return { style: style.outlineStyle, width: parseFloat(style.outlineWidth), color: style.outlineColor, visible: toggle.matches(':focus-visible') }
      })
      expect(ring).toMatchObject({ style: 'solid', visible: true })
      expect(ring.width).toBeGreaterThanOrEqual(2)
      // The ring sits outside the button, on the table's background: 3:1 against it.
      const ringContrast = await page.locator('#twaps tbody td').first().evaluate((td, color) => {
        const view = td.ownerDocument.defaultView
        const channels = (css: string) => (css.match(/[\d.]+/g) ?? []).slice(0, 3).map(Number)
        const luminance = (rgb: number[]) => rgb.map((c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4))
          .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i]!, 0)
        let node = td
        while (node && view.getComputedStyle(node).backgroundColor === 'rgba(0, 0, 0, 0)') node = node.parentElement
        const [a, b] = [luminance(channels(color)), luminance(channels(view.getComputedStyle(node).backgroundColor))].sort((x, y) => y - x)
        return (a! + 0.05) / (b! + 0.05)
      }, ring.color)
      expect(ringContrast, `${colorScheme}: focus ring against the table`).toBeGreaterThanOrEqual(3)

      const toggle = `tr[data-twap-id="${twapId}"] .toggle`
      expect(await accessibleNode(page, toggle)).toMatchObject({ role: 'button', name: `Events and fills of TWAP ${twapId}`, properties: { expanded: false } })
      await page.keyboard.press('Space')
      const detail = page.locator(`#twap-${twapId}-detail`)
      await expect.poll(() => detail.isVisible()).toBe(true)
      expect((await accessibleNode(page, toggle)).properties.expanded).toBe(true)
      await expect.poll(() => detail.locator('.fills-table tbody tr').count()).toBeGreaterThan(0)
      expect(await detail.locator('.event-list tbody tr').count()).toBeGreaterThan(0)
      await page.keyboard.press('Enter')
      await expect.poll(() => detail.isVisible()).toBe(false)
      expect((await accessibleNode(page, toggle)).properties.expanded).toBe(false)
      expect(errors).toEqual([])
      await page.close()
    }
  })

  it('names every field by its label and ties each inline error to its field as its description, marked invalid', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&start=2025-12-01&end=2025-11-01`)
    await expect.poll(() => page.locator('#start-error').textContent()).toBe('must not be after end')
    const names = { '#wallet': 'Wallet', '#preset': 'Range', '#start': 'From', '#end': 'To (whole day)', '#asset': 'Asset (optional)' }
    for (const [selector, name] of Object.entries(names)) expect((await accessibleNode(page, selector)).name, selector).toBe(name)

    expect(await accessibleNode(page, '#start')).toMatchObject({ description: 'must not be after end', properties: { invalid: 'true' } })
    expect(await accessibleNode(page, '#end')).toMatchObject({ description: 'must not be before start', properties: { invalid: 'true' } })

    await page.fill('#wallet', '0x12345')
    expect(await accessibleNode(page, '#wallet')).toMatchObject({ description: 'must be 0x followed by 40 hex digits', properties: { invalid: 'true' } })
    await page.fill('#wallet', WALLET)
    const fixed = await accessibleNode(page, '#wallet')
    expect(fixed.description).toBe('')
    expect(fixed.properties.invalid).not.toBe('true')
    expect(unexpected(errors)).toEqual([])
    await page.close()
  })
})
