import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { SAMPLE_WALLETS } from '#src/sample.ts'
import { testConfig } from '../support/api.ts'
import { accessibleNode, chromiumPath, launchBrowser, loadSample, noBrowserReason, pageErrors, useExplorer } from '../support/browser.ts'
import { createTestStore, engine, type TestStore } from '../support/db.ts'

const WALLET = SAMPLE_WALLETS[0]
const RANGE = 'start=2025-11-01&end=2025-11-30'

interface ApiTwap { twap_id: string; asset: string; status: string; events: { status: string }[]; reconciled: boolean | null }

/** Errors a page reported other than the failed requests a test provokes on purpose. */
const unexpected = (errors: string[]) => errors.filter((e) => !/Failed to load resource: the server responded with a status of (422|503)/.test(e))

describe.skipIf(!chromiumPath)(`the explorer in Chromium on ${engine}${noBrowserReason}`, () => {
  const web = useExplorer(loadSample)
  let twaps: ApiTwap[]

  beforeAll(async () => {
    twaps = (await web.app.inject(`/api/v1/twaps?wallet=${WALLET}&${RANGE}&latest_per_twap=false&limit=5000`)).json<{ twaps: ApiTwap[] }>().twaps
    expect(twaps.length).toBeGreaterThan(10)
  })

  const openPage = (path: string) => web.open(path, { acceptDownloads: true })

  const rows = (page: Page) => page.locator('#twaps tbody tr:not(.detail)')

  it('opens a shared link with its query already run, every TWAP of the range listed newest first', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    await expect.poll(() => rows(page).count()).toBe(twaps.length)
    expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-twap-id')))).toEqual(twaps.map((t) => t.twap_id))
    expect(await page.inputValue('#wallet')).toBe(WALLET)
    expect(await page.inputValue('#start')).toBe('2025-11-01')
    expect(await page.locator('#results-meta').textContent()).toContain(`${twaps.length} TWAPs of ${WALLET}`)
    expect(await page.locator('#chart canvas').count()).toBeGreaterThan(0)
    if (process.env.EXPLORER_SCREENSHOT) {
      await page.setViewportSize({ width: 1280, height: 1440 })
      await page.locator('#twaps tbody tr:not(.detail) .toggle').first().click()
      await expect.poll(() => page.locator('#twaps .fills-table').count()).toBe(1)
      await page.locator('#coverage .coverage-item').first().waitFor()
      await page.locator('html').evaluate((html) => html.ownerDocument.defaultView.scrollTo(0, 0))
      await page.screenshot({ path: process.env.EXPLORER_SCREENSHOT, fullPage: false })
    }
    expect(errors).toEqual([])
    await page.close()
  })

  it('looks up a wallet typed in upper case over a custom range and puts the query in the URL', async () => {
    const { page, errors } = await openPage('/')
    await page.fill('#wallet', WALLET.toUpperCase().replace('0X', '0x'))
    await page.fill('#start', '2025-11-01')
    await page.fill('#end', '2025-11-30')
    expect(await page.inputValue('#preset')).toBe('custom')
    await page.click('button[type="submit"]')
    await expect.poll(() => rows(page).count()).toBe(twaps.length)
    const url = new URL(page.url())
    expect(url.searchParams.get('start')).toBe('2025-11-01')
    expect(url.searchParams.get('end')).toBe('2025-11-30')
    expect(url.searchParams.get('wallet')?.toLowerCase()).toBe(WALLET)
    expect(errors).toEqual([])
    await page.close()
  })

  it('expands a TWAP to its events in the range, from the keyboard', async () => {
    const { page } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    const first = twaps[0] as ApiTwap
    const toggle = page.locator(`tr[data-twap-id="${first.twap_id}"] .toggle`)
    await toggle.focus()
    await page.keyboard.press('Enter')
    expect(await toggle.getAttribute('aria-expanded')).toBe('true')
    const detail = page.locator(`#twap-${first.twap_id}-detail`)
    await expect.poll(() => detail.isVisible()).toBe(true)
    expect(await detail.locator('.event-list tbody tr').count()).toBe(first.events.length)
    expect(await detail.locator('.event-list .badge').allTextContents()).toEqual(first.events.map((e) => e.status))
    await page.keyboard.press('Enter')
    await expect.poll(() => detail.isVisible()).toBe(false)
    await page.close()
  })

  it('shows a TWAP\'s fills and their totals when its row opens', async () => {
    const withFills = twaps.find((t) => t.status === 'finished') as ApiTwap
    const fromApi = (await web.app.inject(`/api/v1/twaps/${withFills.twap_id}/fills`)).json<{ fills: { tid: string }[]; totals: { count: number; size: string } }>()
    expect(fromApi.totals.count).toBeGreaterThan(0)
    const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    const row = page.locator(`tr[data-twap-id="${withFills.twap_id}"]`)
    expect(await row.locator('td').nth(8).textContent()).toMatch(new RegExp(`^${fromApi.totals.count} · `))
    await row.locator('.toggle').click()
    const table = page.locator(`#twap-${withFills.twap_id}-detail .fills-table`)
    await expect.poll(() => table.locator('tbody tr').count()).toBe(fromApi.fills.length)
    expect(await table.locator('tbody tr td:last-child').allTextContents()).toEqual(fromApi.fills.map((f) => f.tid))
    expect(await page.locator(`#twap-${withFills.twap_id}-detail .fills`).textContent()).toContain(`Total ${fromApi.totals.size}`)
    expect(errors).toEqual([])
    await page.close()
  })

  it('loads more through the cursor until the range is exhausted', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}&limit=5`)
    await expect.poll(() => rows(page).count()).toBe(5)
    for (let shown = 5; shown < twaps.length; shown = Math.min(shown + 5, twaps.length)) {
      await page.click('#more')
      await expect.poll(() => rows(page).count()).toBe(Math.min(shown + 5, twaps.length))
    }
    expect(await page.locator('#more').isHidden()).toBe(true)
    expect(await rows(page).evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-twap-id')))).toEqual(twaps.map((t) => t.twap_id))
    expect(errors).toEqual([])
    await page.close()
  })

  it('marks each TWAP reconciled, or not yet decided, in words beside the symbol', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    await expect.poll(() => rows(page).count()).toBe(twaps.length)
    const marks = await rows(page).evaluateAll((trs) => trs.map((tr) => tr.querySelector('.recon')?.getAttribute('data-reconciled')))
    expect(marks).toEqual(twaps.map((t) => String(t.reconciled)))
    expect(marks).toContain('true')
    // What a sighted reader sees (the symbol and a word), and what a screen reader says.
    const shown = (locator: Locator) => locator.evaluate((span) => [...span.childNodes]
      .filter((n) => !(n.nodeType === 1 && n.classList.contains('visually-hidden'))).map((n) => n.textContent).join(''))
    const yes = twaps.find((t) => t.reconciled === true) as ApiTwap
    const mark = (twap: ApiTwap) => page.locator(`tr[data-twap-id="${twap.twap_id}"] .recon`)
    expect(await shown(mark(yes))).toBe('✓ yes')
    expect(await mark(yes).getAttribute('title')).toMatch(/fills add up to its executed size and notional/)
    expect((await accessibleNode(page, `tr[data-twap-id="${yes.twap_id}"] td:nth-child(10)`)).name)
      .toBe('yes (Reconciled: its fills add up to its executed size and notional)')
    expect(await page.locator('#twaps thead th').nth(9).textContent()).toBe('Reconciled')
    expect(errors).toEqual([])
    await page.close()

    // The sample's TWAP still running is not decided yet, on its own wallet's page.
    const running = await Promise.all(SAMPLE_WALLETS.map(async (wallet) => ({
      wallet,
      twaps: (await web.app.inject(`/api/v1/twaps?wallet=${wallet}&${RANGE}&limit=5000`)).json<{ twaps: ApiTwap[] }>().twaps.filter((t) => t.reconciled === null),
    })))
    const holder = running.find((r) => r.twaps.length > 0)
    expect(holder, 'a sample wallet with a TWAP not decided yet').toBeDefined()
    const undecided = holder!.twaps[0]!
    const other = await openPage(`/?wallet=${holder!.wallet}&${RANGE}`)
    const otherMark = other.page.locator(`tr[data-twap-id="${undecided.twap_id}"] .recon`)
    await expect.poll(() => otherMark.count()).toBe(1)
    expect(await otherMark.getAttribute('data-reconciled')).toBe('null')
    expect(await shown(otherMark)).toBe('… not yet')
    expect(await otherMark.getAttribute('title')).toMatch(/^Not decided yet/)
    expect((await accessibleNode(other.page, `tr[data-twap-id="${undecided.twap_id}"] td:nth-child(10)`)).name).toMatch(/^not yet \(Not decided yet: /)
    expect(other.errors).toEqual([])
    await other.page.close()
  })

  it('says the days the sample covers are complete in both datasets, and lists the hours of November it lacks', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&start=2025-11-03&end=2025-11-27`)
    const item = (dataset: string) => page.locator(`#coverage .coverage-item[data-dataset="${dataset}"]`)
    await expect.poll(() => item('statuses').count()).toBe(1)
    for (const dataset of ['statuses', 'fills']) {
      expect(await item(dataset).getAttribute('class')).toContain('complete')
      expect(await item(dataset).innerText()).toMatch(/: complete, every hour of the range is stored \(600 hours\)\.$/)
      expect(await item(dataset).locator('.gap').count()).toBe(0)
    }
    expect(await page.locator('#coverage').getAttribute('class')).not.toContain('incomplete')

    await page.goto(`${web.base}/?wallet=${WALLET}&${RANGE}`)
    await expect.poll(() => item('statuses').locator('.gap').allInnerTexts()).toEqual([
      'Missing 2025-11-01 00:00 to 13:59 UTC (14 hours)',
      'Missing 2025-11-28 18:00 to 2025-11-30 23:59 UTC (54 hours)',
    ])
    expect(await item('statuses').innerText()).toMatch(/^! TWAP status events: incomplete, 68 hours missing\./)
    expect(await item('fills').locator('.gap').first().innerText()).toBe('Missing 2025-11-01 00:00 to 2025-11-02 09:59 UTC (34 hours)')
    expect(await page.locator('#coverage-note').innerText()).toContain('named …_incomplete')
    expect(errors).toEqual([])
    await page.close()
  })

  it('downloads the range as the CSV the API serves', async () => {
    const { page } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    await expect.poll(() => rows(page).count()).toBe(twaps.length)
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a:text-is("CSV")')])
    const content = await readFile(await download.path(), 'utf8')
    const fromApi = (await web.app.inject(`/api/v1/twaps?wallet=${WALLET}&${RANGE}&format=csv`)).body
    expect(content).toBe(fromApi)
    expect(content.trim().split('\n')).toHaveLength(twaps.length + 1)
    expect(download.suggestedFilename()).toMatch(/^twaps_0x[0-9a-f]{40}_.*\.csv$/)
    await page.close()
  })

  it('shows the wallet\'s totals as cards and offers every tax format of the range', async () => {
    const summary = (await web.app.inject(`/api/v1/wallets/${WALLET}/summary?${RANGE}`)).json<{
      totals: { twaps: { count: number; notional: string }; fills: { count: number; closed_pnl: string } }
    }>()
    const { page, errors } = await openPage(`/?wallet=${WALLET}&${RANGE}`)
    const cards = page.locator('#summary .card')
    await expect.poll(() => cards.count()).toBe(5)
    const values = await page.locator('#summary .card .value').allTextContents()
    expect(values[0]).toBe(String(summary.totals.twaps.count))
    expect(values[1]).toBe(summary.totals.twaps.notional)
    expect(values[2]).toBe(String(summary.totals.fills.count))
    expect(values[4]).toBe(summary.totals.fills.closed_pnl)
    const links = await page.locator('#downloads a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]))
    for (const format of ['awaken', 'awaken-spot', 'koinly', 'cointracker']) {
      expect(links.some(([, href]) => href?.startsWith('/api/v1/fills?') && href.includes(`format=${format}`))).toBe(true)
    }
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#downloads a:text-is("Koinly")')])
    const content = await readFile(await download.path(), 'utf8')
    expect(content.split(/\r?\n/)[0]).toBe('Date,Sent Amount,Sent Currency,Received Amount,Received Currency,Fee Amount,Fee Currency,Net Worth Amount,Net Worth Currency,Label,Description,TxHash')
    expect(errors).toEqual([])
    await page.close()
  })

  it('says what is wrong with a bad wallet next to the field as it is typed, and runs nothing', async () => {
    const { page, errors } = await openPage('/')
    await page.fill('#wallet', '0x12345')
    expect(await page.locator('#wallet-error').textContent()).toBe('must be 0x followed by 40 hex digits')
    expect(await page.getAttribute('#wallet', 'aria-invalid')).toBe('true')
    await page.click('button[type="submit"]')
    expect(new URL(page.url()).searchParams.get('wallet')).toBeNull()
    expect(await page.locator('#results').isHidden()).toBe(true)
    await page.fill('#wallet', WALLET)
    expect(await page.locator('#wallet-error').textContent()).toBe('')
    expect(errors).toEqual([])
    await page.close()
  })

  it('shows the API\'s problem with a range next to its fields', async () => {
    const { page, errors } = await openPage(`/?wallet=${WALLET}&start=2025-12-01&end=2025-11-01`)
    await expect.poll(() => page.locator('#start-error').textContent()).toBe('must not be after end')
    expect(await page.locator('#end-error').textContent()).toBe('must not be before start')
    expect(unexpected(errors)).toEqual([])
    await page.close()
  })

  it('serves the page to browsers and the JSON description to API clients, both from GET /', async () => {
    const html = await fetch(web.base + '/', { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(html.headers.get('content-type')).toMatch(/^text\/html/)
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(html.headers.get('vary')).toMatch(/accept/i)
    const json = await fetch(web.base + '/', { headers: { accept: 'application/json' } })
    expect(((await json.json()) as { name: string }).name).toBe('hyperliquid-twap')
    const any = await fetch(web.base + '/')
    expect(any.headers.get('content-type')).toMatch(/^application\/json/)
    const vendor = await fetch(web.base + '/assets/vendor/uPlot.esm.js')
    expect(vendor.status).toBe(200)
    expect(vendor.headers.get('content-type')).toMatch(/javascript/)
    expect((await fetch(web.base + '/assets/vendor/package.json')).status).toBe(404)
    expect((await fetch(web.base + '/assets/index.html')).status).toBe(404)
  })
})

describe.skipIf(!chromiumPath)(`the explorer with its database down, in Chromium on ${engine}${noBrowserReason}`, () => {
  let store: TestStore
  let app: FastifyInstance
  let browser: Browser

  beforeAll(async () => {
    store = await createTestStore()
    app = await buildApp({ db: store.db, config: testConfig() })
    await app.listen({ port: 0, host: '127.0.0.1' })
    await store.close()
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await app?.close()
    await store?.destroy()
  })

  it('shows a banner, not a blank page', async () => {
    const page = await browser.newPage()
    const errors = pageErrors(page)
    await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/?wallet=${WALLET}&${RANGE}`)
    const banner = page.locator('#banner')
    await expect.poll(() => banner.isVisible()).toBe(true)
    expect(await banner.textContent()).toMatch(/database is unreachable/i)
    expect(await page.locator('#wallet').inputValue()).toBe(WALLET)
    expect(unexpected(errors)).toEqual([])
    await page.close()
  })
})
