#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so a fresh clone needs no build step.
import { accessSync, constants, statSync } from 'node:fs'
import { tmpdir } from 'node:os'

// tsx caches compiled sources under the temp directory and dies with a stack trace when it
// cannot write there; without its cache it only starts slower, and the ETL then names the
// directory it cannot use in one line.
try {
  if (!statSync(tmpdir()).isDirectory()) throw new Error('not a directory')
  accessSync(tmpdir(), constants.W_OK)
} catch {
  process.env.TSX_DISABLE_CACHE = '1'
}
const { register } = await import('tsx/esm/api')
register()
await import('../src/cli.ts')
