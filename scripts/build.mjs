#!/usr/bin/env node
// Compiles src/ to dist/ with tsc (tsconfig.build.json), which is what bin/hl-twap.js runs.
// `--if-stale` builds only when a file under src/ or a tsconfig is newer than the last build,
// so `npm start` costs one directory walk when nothing changed.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const dist = join(root, 'dist')
const stamp = join(dist, '.built')

/** Newest modification time under `dir`, directories included (a deleted file changes its folder's). */
function newest(dir) {
  let max = statSync(dir).mtimeMs
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return max
}

function stale() {
  if (!existsSync(stamp)) return true
  const inputs = Math.max(newest(src), ...['tsconfig.json', 'tsconfig.build.json'].map((f) => statSync(join(root, f)).mtimeMs))
  return inputs > statSync(stamp).mtimeMs
}

/** Removes compiled files whose source is gone, so dist/ holds no module src/ no longer has. */
function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      prune(path)
      continue
    }
    const m = /^(.*)\.js(\.map)?$/.exec(entry.name)
    if (m && !existsSync(join(src, relative(dist, dir), `${m[1]}.ts`))) rmSync(path)
  }
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0)

let tsc
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
} catch {
  process.stderr.write('build: dist/ needs building and TypeScript is not installed; run `npm ci` (with the dev dependencies)\n')
  process.exit(1)
}
const started = Date.now()
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
} catch {
  process.stderr.write('build: tsc failed (its errors are above); dist/ is not up to date\n')
  process.exit(1)
}
prune(dist)
writeFileSync(stamp, `${new Date().toISOString()}\n`)
process.stderr.write(`build: src/ compiled to dist/ in ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
