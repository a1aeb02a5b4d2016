import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/**
 * Vitest's global setup: the tests run the CLI as users do, `bin/hl-twap.js` on the
 * compiled dist/, so it is rebuilt first when src/ is newer than the last build.
 */
export default function setup(): void {
  const build = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url))
  execFileSync(process.execPath, [build, '--if-stale'], { stdio: 'inherit' })
}
