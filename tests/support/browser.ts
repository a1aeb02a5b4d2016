import { existsSync } from 'node:fs'
import { chromium, type Browser, type Page } from 'playwright-core'

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
