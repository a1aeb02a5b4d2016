import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import pino from 'pino'
import { chromium, type Browser, type BrowserContextOptions, type Locator, type Page } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { buildApp } from '#src/api/app.ts'
import { runEtl } from '#src/etl/run.ts'
import type { Db } from '#src/store/db.ts'
import { testConfig } from './api.ts'
import { createTestStore, type TestStore } from './db.ts'

/**
 * Debian's Chromium (or the one `CHROMIUM_PATH` names), driven by playwright-core, which
 * downloads no browser of its own. Null when none is installed: the browser tests then skip
 * with that reason, unless `REQUIRE_BROWSER` is set (CI sets it), where they fail instead.
 */
export const chromiumPath: string | null = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']
  .find((path): path is string => Boolean(path) && existsSync(path as string)) ?? null

if (!chromiumPath && process.env.REQUIRE_BROWSER) {
  throw new Error('REQUIRE_BROWSER is set but no Chromium was found: apt-get install -y chromium, or set CHROMIUM_PATH')
}

/** Why the browser tests are skipped, for the test name. */
export const noBrowserReason = chromiumPath ? '' : ' (skipped: no Chromium; apt-get install -y chromium, or set CHROMIUM_PATH)'

/**
 * A headless Chromium with nothing running in the background (no updates, sync or
 * first-run pages), so a test only ever talks to the server it started.
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath ?? undefined,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-default-apps', '--disable-extensions',
    ],
  })
}

/**
 * Collects what a page reports as broken: uncaught exceptions and console errors, which
 * include every request the Content-Security-Policy blocks.
 */
export function pageErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`)
  })
  return errors
}

/**
 * The contrast ratio (WCAG 2) of an element's computed text colour against the background
 * it is drawn on: its own or, where that is transparent, the nearest ancestor's, each
 * layer blended over the one below.
 */
export function textContrast(locator: Locator): Promise<number> {
  // Runs in the page; its DOM types are not this project's (which has no DOM library).
  return locator.evaluate((element) => {
    const style = (node: typeof element) => element.ownerDocument.defaultView.getComputedStyle(node)
    const parse = (css: string): number[] => {
      const [r = 0, g = 0, b = 0, a = 1] = (css.match(/[\d.]+/g) ?? []).map(Number)
      return [r, g, b, css.startsWith('rgba') || css.includes('/') ? a : 1]
    }
    const layers: number[][] = []
    for (let node = element; node; node = node.parentElement) {
      const layer = parse(style(node).backgroundColor)
      if (layer[3]! > 0) layers.push(layer)
      if (layer[3] === 1) break
    }
    let bg = [255, 255, 255]
    for (const [r, g, b, a] of layers.reverse()) bg = [r!, g!, b!].map((c, i) => c * a! + bg[i]! * (1 - a!))
    const [fr, fg, fb, fa] = parse(style(element).color)
    const fgRgb = [fr!, fg!, fb!].map((c, i) => c * fa! + bg[i]! * (1 - fa!))
    const luminance = (rgb: number[]) => {
      const [r, g, b] = rgb.map((c) => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4))
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
    }
    const [light, dark] = [luminance(fgRgb), luminance(bg)].sort((x, y) => y - x)
    return (light! + 0.05) / (dark! + 0.05)
  })
}

/** What Chromium's accessibility tree says of the element `selector` finds: its name, description and states. */
export async function accessibleNode(page: Page, selector: string): Promise<{ role: string; name: string; description: string; properties: Record<string, unknown> }> {
  const cdp = await page.context().newCDPSession(page)
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: 0 })
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector })
    if (!nodeId) throw new Error(`no element matches ${selector}`)
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })
    const node = nodes[0]
    if (!node) throw new Error(`${selector} is not in the accessibility tree`)
    return {
      role: String(node.role?.value ?? ''),
      name: String(node.name?.value ?? ''),
      description: String(node.description?.value ?? ''),
      properties: Object.fromEntries((node.properties ?? []).map((p) => [p.name, p.value.value])),
    }
  } finally {
    await cdp.detach()
  }
}

const SAMPLE_FILE = fileURLToPath(new URL('../../samples/twap-sample.parquet', import.meta.url))
const SAMPLE_FILLS = fileURLToPath(new URL('../../samples/node-fills-sample.lz4', import.meta.url))

/** Ingests the bundled sample, statuses then fills, as `npm start` does on an empty store. */
export async function loadSample(db: Db): Promise<void> {
  const quiet = pino({ level: 'silent' })
  for (const [path, dataset] of [[SAMPLE_FILE, 'statuses'], [SAMPLE_FILLS, 'fills']] as const) {
    const summary = await runEtl({ db, config: testConfig(), logger: quiet }, { source: { kind: 'local', paths: [path] }, dataset })
    if (summary.objectsOk !== 1) throw new Error(`the sample ${path} did not load: ${JSON.stringify({ ...summary, planned: undefined })}`)
  }
}

/** The service over `db`, listening on a free port of 127.0.0.1, and its base URL. */
export async function serve(db: Db): Promise<{ app: FastifyInstance; base: string }> {
  const app = await buildApp({ db, config: testConfig() })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` }
}

/** What a describe block of browser tests works with: the served store and a browser on it. */
export interface Explorer {
  readonly app: FastifyInstance
  readonly base: string
  /** A new page at `base + path`, with the errors it reports. */
  open(path: string, options?: BrowserContextOptions): Promise<{ page: Page; errors: string[] }>
}

/**
 * A test store filled by `fill`, the service over it and a browser, set up before the
 * block's tests and closed after them.
 */
export function useExplorer(fill: (db: Db) => Promise<void>): Explorer {
  let store: TestStore | undefined
  let served: { app: FastifyInstance; base: string } | undefined
  let browser: Browser | undefined
  beforeAll(async () => {
    store = await createTestStore()
    await fill(store.db)
    served = await serve(store.db)
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await served?.app.close()
    await store?.destroy()
  })
  return {
    get app() { return served!.app },
    get base() { return served!.base },
    async open(path, options = {}) {
      const page = await browser!.newPage(options)
      const errors = pageErrors(page)
      await page.goto(served!.base + path)
      return { page, errors }
    },
  }
}
