#!/usr/bin/env node
// Runs the CLI compiled to dist/: `npm ci` builds it (the `prepare` script), `npm start` and
// `npm run build` rebuild it when src/ changed.
import { existsSync } from 'node:fs'

const cli = new URL('../dist/cli.js', import.meta.url)
if (!existsSync(cli)) {
  process.stderr.write('hl-twap: dist/ is missing; run `npm run build` (`npm ci` builds it too)\n')
  process.exit(1)
}
await import(cli.href)
