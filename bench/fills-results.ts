/**
 * The fills benchmarks' sections of RESULTS.md. Each mode of `npm run bench:fills` owns one
 * section between its own markers and rewrites only that; `npm run bench` writes the rest of
 * the file and keeps these sections after it.
 */

import { existsSync, readFileSync, writeFileSync } from 'node:fs'

const FIRST_MARKER = '<!-- bench:fills:'

/** Replaces (or appends) section `id` of the file at `path` with `markdown`. */
export function writeFillsSection(path: string, id: string, markdown: string): void {
  const open = `<!-- bench:fills:${id} -->`
  const close = `<!-- /bench:fills:${id} -->`
  const text = existsSync(path) ? readFileSync(path, 'utf8') : ''
  const block = `${open}\n${markdown.trimEnd()}\n${close}`
  const at = text.indexOf(open)
  const end = text.indexOf(close)
  const next = at !== -1 && end > at
    ? text.slice(0, at) + block + text.slice(end + close.length)
    : text.trimEnd() + '\n\n' + block + '\n'
  writeFileSync(path, next)
}

/** `report` followed by the fills sections of the file at `path`, if it has any. */
export function keepFillsSections(path: string, report: string): string {
  if (!existsSync(path)) return report
  const text = readFileSync(path, 'utf8')
  const at = text.indexOf(FIRST_MARKER)
  return at === -1 ? report : report.trimEnd() + '\n\n' + text.slice(at)
}
