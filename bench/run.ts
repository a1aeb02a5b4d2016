/**
 * `npm run bench`: generates (or reuses) the synthetic data set, measures ingest, the API
 * and the embedded engine, then prints the report and writes it to bench/RESULTS.md.
 * See bench/README.md for what each figure means.
 */

import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { measureApi } from './api.ts'
import { ensureCopyText } from './copy-text.ts'
import { ensureDataset, type Dataset } from './dataset.ts'
import { measureEmbedded, type EmbeddedResults } from './embedded.ts'
import { keepFillsSections } from './fills-results.ts'
import { measureCopy, measureEtl, serveDatasetOverS3, type IngestResult } from './ingest.ts'
import { parseOptions, type BenchOptions } from './options.ts'
import { createScratchDb, type ScratchDb } from './postgres.ts'
import { renderReport, type BenchResults, type Machine } from './report.ts'
import { chooseWorkload, type WalletStats } from './workload.ts'

const phases: [string, number][] = []

/** Runs one phase, logging its start and recording its duration. */
async function phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
  process.stderr.write(`bench: ${name}…\n`)
  const started = performance.now()
  const result = await fn()
  const seconds = (performance.now() - started) / 1000
  phases.push([name, seconds])
  process.stderr.write(`bench: ${name} took ${seconds.toFixed(1)} s\n`)
  return result
}

/**
 * The environment of every `hl-twap` child: nothing inherited but PATH and HOME, so no
 * configured database or AWS credentials of the user can leak into a measurement.
 */
function baseEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME }
}

async function withScratchDb<T>(options: BenchOptions, label: string, fn: (db: ScratchDb) => Promise<T>): Promise<T> {
  const db = await createScratchDb(options.adminUrl, label)
  try {
    return await fn(db)
  } finally {
    await db.drop()
  }
}

/** Local-file ingest into `main`, plain COPY beside it, then the S3 ingests at two concurrencies. */
async function ingestPhase(options: BenchOptions, dataset: Dataset, copyFile: string, main: ScratchDb, work: string) {
  const env = baseEnv()
  const watched = (db: ScratchDb) => ({ adminUrl: options.adminUrl, name: db.name })
  const etl = await measureEtl('hl-twap etl --local-file', dataset, ['--local-file', dataset.dir], { ...env, DATABASE_URL: main.url }, work, watched(main))
  const copy = await withScratchDb(options, 'copy', (db) => measureCopy(dataset, copyFile, db.url, work, watched(db)))
  const s3 = await serveDatasetOverS3(dataset)
  try {
    const runs: IngestResult[] = []
    for (const concurrency of [1, options.concurrency]) {
      runs.push(await withScratchDb(options, `s3_c${concurrency}`, (db) =>
        measureEtl(`hl-twap etl (S3) --concurrency ${concurrency}`, dataset, ['--concurrency', String(concurrency)], { ...env, ...s3.env, DATABASE_URL: db.url }, work, watched(db))))
    }
    return { etl, copy, s3: runs }
  } finally {
    await s3.close()
  }
}

function machine(): Machine {
  let postgres = 'PostgreSQL (version unknown)'
  try {
    postgres = execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim().replace(/^psql \(PostgreSQL\)/, 'PostgreSQL')
  } catch {
    // psql is needed for the COPY baseline anyway; a missing one fails there, loudly.
  }
  return {
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    postgres,
    loadAverage: loadavg(),
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  const options = parseOptions(argv)
  const command = `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`
  const started = new Date()
  const host = machine()
  const work = await mkdtemp(join(tmpdir(), 'hltwap-bench-run-'))
  const cacheDir = join(tmpdir(), 'hltwap-bench', `seed${options.seed}-rows${options.rows}-files${options.files}`)
  const mainDb = await createScratchDb(options.adminUrl, 'main')
  try {
    const dataset = await phase('data set', () => ensureDataset(cacheDir, options.seed, options.rows, options.files))
    const copyText = await phase('COPY text of the data set', () => ensureCopyText(dataset))
    const ingest = await phase('ingest on PostgreSQL', () => ingestPhase(options, dataset, copyText.path, mainDb, work))
    // What autovacuum does soon after a large load; without it the first plans are guesses.
    await mainDb.query('VACUUM ANALYZE twap_status')
    const workload = await chooseWorkload((sql) => mainDb.query<WalletStats>(sql), dataset)
    const served = { adminUrl: options.adminUrl, name: mainDb.name, url: mainDb.url }
    const api = await phase('API on PostgreSQL', () => measureApi(baseEnv(), served, workload, options, work))
    await mainDb.drop()
    let embedded: EmbeddedResults | undefined
    if (!options.skipEmbedded) embedded = await phase('embedded engine', () => measureEmbedded(dataset, workload, baseEnv(), work, options))
    const results: BenchResults = {
      command, date: started.toISOString(), machine: host, options, dataset, workload, ingest, api, embedded, phases,
    }
    const report = renderReport(results)
    await mkdir(dirname(options.out), { recursive: true })
    await writeFile(options.out, keepFillsSections(options.out, report))
    process.stdout.write(report)
    process.stderr.write(`bench: wrote ${options.out}; data set cached in ${cacheDir}\n`)
  } finally {
    await mainDb.drop().catch(() => {})
    await rm(work, { recursive: true, force: true })
  }
}

try {
  await main()
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n`)
  process.exitCode = 1
}
