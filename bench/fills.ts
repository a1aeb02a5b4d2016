/**
 * `npm run bench:fills`: the fills ingest against the physical limit on the same files in
 * the same run. Generates hourly `node_fills_by_block` files (block lines of three fills,
 * 5 % of lines holding one TWAP slice fill), times the `lz4` command decompressing them to
 * /dev/null, then `hl-twap etl --dataset fills --local-file` into a fresh PostgreSQL
 * database (wall time, peak RSS), and reports MB/s of compressed input, TWAP fills/s and
 * bytes per stored fill. Needs the `lz4` command (Debian package `lz4`) and the same
 * PostgreSQL admin URL as `npm run bench`.
 *
 * `--api` is a mode of its own: many fills stored, the fills routes timed (`fills-api.ts`);
 * `--rss` ingests four large objects at once (500 MB of lines each) for the peak memory.
 * Each mode writes its section of RESULTS.md (`--out`).
 */

import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, stat, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { decompressLz4 } from '#src/decode/lz4-frame.ts'
import { blockLine, makeFills } from '../tests/support/lz4.ts'
import { fillsApiMarkdown, measureFillsApi } from './fills-api.ts'
import { writeFillsSection } from './fills-results.ts'
import { createScratchDb } from './postgres.ts'
import { CLI, runMeasured } from './process.ts'

const { values } = parseArgs({
  options: {
    files: { type: 'string', default: '4' },
    'mb-per-file': { type: 'string', default: '100' },
    'admin-url': { type: 'string', default: process.env.BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test' },
    api: { type: 'boolean', default: false },
    rss: { type: 'boolean', default: false },
    'rss-mb': { type: 'string', default: '500' },
    fills: { type: 'string', default: '20000000' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
})
if (values.api) {
  const results = await measureFillsApi({ adminUrl: values['admin-url'], fills: Number(values.fills) }, (line) => process.stderr.write(line + '\n'))
  const markdown = fillsApiMarkdown(results)
  writeFillsSection(values.out, 'api', markdown)
  process.stdout.write(markdown)
  process.exit(0)
}
const files = Number(values.files)
const mbPerFile = Number(values['mb-per-file'])
const wallets = Array.from({ length: 500 }, (_, i) => '0x' + (i * 2654435761 % 2 ** 32).toString(16).padStart(8, '0').repeat(5))

/** Block line `block` of file `f`: three fills, the first a TWAP slice fill in one line of 20. */
function fillLine(f: number, block: number): string {
  const twap = block % 20 === 0
  const fills = makeFills({ wallets, count: 3, twapShare: 0, seed: f * 1e7 + block, start: 1_761_546_638_019 + block * 250 })
    .map(([user, fill], i): [string, typeof fill] => [user, { ...fill, tid: fill.tid + BigInt(block * 3 + i), oid: fill.oid + BigInt(block * 3 + i), twapId: twap && i === 0 ? BigInt(1_300_000 + (block % 5000)) : null }])
  return blockLine(776_534_347 + block, '2025-10-27T06:30:38.019609515', fills)
}

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
      const line = fillLine(f, block)
      lines.push(line)
      bytes += line.length + 1
    }
    const text = join(dir, `${f}.jsonl`)
    await writeFile(text, lines.join('\n') + '\n')
    execFileSync('lz4', ['-q', '-f', '--rm', text, path])
  }
  return (await readdir(dir)).filter((n) => n.endsWith('.lz4')).map((n) => join(dir, n))
}

/** Writes `count` copies of an object of `mb` MB of lines (generated as a stream, piped into `lz4`) and returns their folder. */
async function bigObjects(mb: number, count: number): Promise<string> {
  const dir = join(tmpdir(), 'hltwap-bench-fills', `big-mb${mb}`, '20251027')
  await mkdir(dir, { recursive: true })
  const first = join(dir, '0.lz4')
  if (!existsSync(first)) {
    const lz4 = spawn('lz4', ['-q', '-f', '-', first], { stdio: ['pipe', 'ignore', 'inherit'] })
    const done = new Promise<number>((resolvePromise) => lz4.once('close', (code) => resolvePromise(code ?? 1)))
    let bytes = 0
    for (let block = 0; bytes < mb * 1e6; block++) {
      const line = fillLine(0, block) + '\n'
      bytes += line.length
      if (!lz4.stdin.write(line)) await once(lz4.stdin, 'drain')
    }
    lz4.stdin.end()
    if ((await done) !== 0) throw new Error(`lz4 failed writing ${first}`)
  }
  for (let i = 1; i < count; i++) if (!existsSync(join(dir, `${i}.lz4`))) await copyFile(first, join(dir, `${i}.lz4`))
  return join(dir, '..')
}

const env = (url: string) => ({ PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url, LOG_LEVEL: 'info' })

/** Writes section `id` of the results file (a title, a paragraph, a two-column table) and prints it. */
function publish(id: string, title: string, intro: string, rows: readonly (readonly [string, string])[]): void {
  const markdown = [`## ${title}`, '', intro, '', '| measure | value |', '|---|---|', ...rows.map(([k, v]) => `| ${k} | ${v} |`), ''].join('\n')
  writeFillsSection(values.out, id, markdown)
  process.stdout.write(markdown)
}

/** The ETL's own run time from its summary line (start-up excluded), seconds. */
function runSeconds(run: { stdout: string; stderr: string }): number {
  const summary = (run.stdout + '\n' + run.stderr).split('\n').filter((l) => l.includes('"durationMs"')).at(-1)
  return summary ? (JSON.parse(summary) as { durationMs: number }).durationMs / 1000 : NaN
}

if (values.rss) {
  const mb = Number(values['rss-mb'])
  const folder = await bigObjects(mb, 4)
  const db = await createScratchDb(values['admin-url'], 'fillsrss')
  try {
    const etl = await runMeasured(process.execPath, [CLI, 'etl', '--dataset', 'fills', '--concurrency', '4', '--local-file', folder], { env: env(db.url), cwd: process.cwd() })
    const [stored] = await db.query<{ fills: number }>('SELECT count(*)::int AS fills FROM twap_fill')
    publish('rss', 'Fills ingest: peak memory with large objects',
      `\`npm run bench:fills -- --rss --rss-mb ${mb}\`: four objects of ${mb} MB of lines each (${((await stat(join(folder, '20251027', '0.lz4'))).size / 1e6).toFixed(0)} MB compressed), generated as a stream into \`lz4\`, ingested by \`hl-twap etl --dataset fills --concurrency 4 --local-file\`, so all four are in flight at once. Peak RSS is the kernel's maximum resident set of the ETL process (GNU time). Goal: ≤ 400 MB whatever the object size.`,
      [
        ['peak RSS of the ETL', `${Math.round(etl.peakRss / 1e6)} MB`],
        ['run time (start-up excluded)', `${runSeconds(etl).toFixed(1)} s for ${(4 * mb / 1000).toFixed(1)} GB of lines`],
        ['TWAP fills stored', String(stored!.fills)],
      ])
  } finally {
    await db.drop()
  }
  process.exit(0)
}

const paths = await dataset()
const compressed = (await Promise.all(paths.map((p) => stat(p)))).reduce((n, s) => n + s.size, 0)
const mb = compressed / 1e6

// The limit: the lz4 command, one file after the other, to /dev/null.
let lz4Wall = 0
let lz4Cpu = 0
for (const path of paths) {
  const run = await runMeasured('sh', ['-c', `lz4 -d -c "${path}" > /dev/null`], { env: process.env, cwd: process.cwd() })
  lz4Wall += run.wallMs / 1000
  lz4Cpu += run.cpuSeconds ?? NaN
}

// Our frame reader alone, in this process: what the rest of the pipeline is added to.
const readStarted = performance.now()
const readCpu = process.cpuUsage()
for (const path of paths) for await (const block of decompressLz4(createReadStream(path, { highWaterMark: 1 << 20 }))) void block
const readWall = (performance.now() - readStarted) / 1000
const readCpuUsed = process.cpuUsage(readCpu)
const readCpuSeconds = (readCpuUsed.user + readCpuUsed.system) / 1e6

const db = await createScratchDb(values['admin-url'], 'fills')
try {
  const etl = await runMeasured(process.execPath, [CLI, 'etl', '--dataset', 'fills', '--concurrency', '4', '--local-file', join(paths[0]!, '..')], { env: env(db.url), cwd: process.cwd() })
  const [sizes] = await db.query<{ fills: number; bytes: string }>(
    `SELECT count(*)::int AS fills, (pg_total_relation_size('twap_fill') + pg_total_relation_size('twap_fill_object'))::text AS bytes FROM twap_fill`)
  const etlWall = etl.wallMs / 1000
  const etlRun = runSeconds(etl)
  const rate = (seconds: number) => `${(mb / seconds).toFixed(1)} MB/s`
  const rows: [string, string][] = [
    ['files', `${paths.length} × ~${mbPerFile} MB of lines, ${mb.toFixed(1)} MB compressed`],
    ['`lz4 -d` to /dev/null, one file after the other', `${rate(lz4Wall)} compressed (${lz4Wall.toFixed(2)} s wall, ${lz4Cpu.toFixed(2)} s CPU)`],
    ['the frame reader alone (`decompressLz4`, in process)', `${rate(readWall)} (${readWall.toFixed(2)} s wall, ${readCpuSeconds.toFixed(2)} s CPU)`],
    ['`hl-twap etl --dataset fills --concurrency 4`, run time', `${rate(etlRun)} compressed, ${Math.round(sizes!.fills / etlRun)} TWAP fills/s (${etlRun.toFixed(2)} s; ${etlWall.toFixed(1)} s wall with start-up)`],
    ['ratio to `lz4 -d`: run time, wall with start-up', `${(lz4Wall / etlRun).toFixed(3)}×, ${(lz4Wall / etlWall).toFixed(3)}×`],
    ['CPU of the ETL process (start-up included) against `lz4 -d`', `${(etl.cpuSeconds ?? NaN).toFixed(2)} s against ${lz4Cpu.toFixed(2)} s`],
    ['peak RSS of the ETL', `${Math.round(etl.peakRss / 1e6)} MB`],
    ['TWAP fills stored', String(sizes!.fills)],
    ['bytes per stored fill (table, indexes, object membership)', String(Math.round(Number(sizes!.bytes) / sizes!.fills))],
  ]
  publish('ingest', 'Fills ingest', `\`npm run bench:fills -- --files ${files} --mb-per-file ${mbPerFile}\`: hourly \`node_fills_by_block\` files, block lines of three fills, 5 % of lines holding one TWAP slice fill. Run time is the ETL's own summary duration (start-up excluded). Load average at the start: ${loadavg().map((l) => l.toFixed(2)).join(', ')}.`, rows)
} finally {
  await db.drop()
}
