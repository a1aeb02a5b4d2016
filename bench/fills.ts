/**
 * `npm run bench:fills`: the fills ingest against the physical limit on the same files in
 * the same run. Generates hourly `node_fills_by_block` files (block lines of three fills,
 * 5 % of lines holding one TWAP slice fill), times the `lz4` command decompressing them to
 * /dev/null, then `hl-twap etl --dataset fills --local-file` into a fresh PostgreSQL
 * database (wall time, peak RSS), and reports MB/s of compressed input, TWAP fills/s and
 * bytes per stored fill. Needs the `lz4` command (Debian package `lz4`) and the same
 * PostgreSQL admin URL as `npm run bench`.
 */

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { blockLine, makeFills } from '../tests/support/lz4.ts'
import { createScratchDb } from './postgres.ts'
import { CLI, runMeasured } from './process.ts'

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '4' },
    'mb-per-file': { type: 'string', default: '100' },
    'admin-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test' },
  },
})
const files = Number(values.files)
const mbPerFile = Number(values['mb-per-file'])
const wallets = Array.from({ length: 500 }, (_, i) => '0x' + (i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0').repeat(5))

/** Writes the data set (cached by its parameters) and returns its files. */
async function dataset(): Promise<string[]> {
  const dir = join(tmpdir(), 'hltwap-bench-fills', `files${files}-mb${mbPerFile}`, '20251027')
  await mkdir(dir, { recursive: true })
  for (let f = 0; f < files; f++) {
    const path = join(dir, `${f}.lz4`)
    if (existsSync(path)) continue
    const lines: string[] = []
    let bytes = 0
    for (let block = 0; bytes < mbPerFile * 1e6; block++) {
      const twap = block % 20 === 0
      const fills = makeFills({ wallets, count: 3, twapShare: 0, seed: f * 1e7 + block, start: 1_761_546_638_019 + block * 250 })
        .map(([user, fill], i): [string, typeof fill] => [user, { ...fill, tid: fill.tid + BigInt(block * 3 + i), oid: fill.oid + BigInt(block * 3 + i), twapId: twap && i === 0 ? BigInt(1_300_000 + (block % 5000)) : null }])
      const line = blockLine(776_534_347 + block, '2025-10-27T06:30:38.019609515', fills)
      lines.push(line)
      bytes += line.length + 1
    }
    const text = join(dir, `${f}.jsonl`)
    await writeFile(text, lines.join('\n') + '\n')
    execFileSync('lz4', ['-q', '-f', '--rm', text, path])
  }
  return (await readdir(dir)).filter((n) => n.endsWith('.lz4')).map((n) => join(dir, n))
}

const paths = await dataset()
const compressed = (await Promise.all(paths.map((p) => stat(p)))).reduce((n, s) => n + s.size, 0)

const lz4Started = performance.now()
for (const path of paths) {
  const run = spawnSync('sh', ['-c', `lz4 -d -c "${path}" > /dev/null`])
  if (run.status !== 0) throw new Error(`lz4 -d ${path} failed: ${run.stderr}`)
}
const lz4Seconds = (performance.now() - lz4Started) / 1000

const db = await createScratchDb(values['admin-url'], 'fills')
try {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, LOG_LEVEL: 'info' }
  const etl = await runMeasured(process.execPath, [CLI, 'etl', '--dataset', 'fills', '--concurrency', '4', '--local-file', join(paths[0]!, '..')], { env, cwd: process.cwd() })
  const [sizes] = await db.query<{ fills: number; bytes: string }>(
    `SELECT count(*)::int AS fills, (pg_total_relation_size('twap_fill') + pg_total_relation_size('twap_fill_object'))::text AS bytes FROM twap_fill`)
  const etlSeconds = etl.wallMs / 1000
  const mb = compressed / 1e6
  const rows = [
    ['files', `${paths.length} × ~${mbPerFile} MB of lines, ${mb.toFixed(1)} MB compressed`],
    ['`lz4 -d` to /dev/null', `${(mb / lz4Seconds).toFixed(1)} MB/s compressed (${lz4Seconds.toFixed(2)} s)`],
    ['`hl-twap etl --dataset fills --concurrency 4`', `${(mb / etlSeconds).toFixed(1)} MB/s compressed, ${Math.round(sizes!.fills / etlSeconds)} TWAP fills/s (${etlSeconds.toFixed(1)} s wall)`],
    ['ratio to `lz4 -d`', `${(lz4Seconds / etlSeconds).toFixed(3)}×`],
    ['peak RSS of the ETL', `${Math.round(etl.peakRss / 1e6)} MB`],
    ['TWAP fills stored', String(sizes!.fills)],
    ['bytes per stored fill (table, indexes, object membership)', String(Math.round(Number(sizes!.bytes) / sizes!.fills))],
  ]
  process.stdout.write(['| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n') + '\n')
} finally {
  await db.drop()
}
