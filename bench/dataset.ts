/**
 * The synthetic data set the benchmark ingests: TWAP status events shaped like the Artemis
 * bucket, written as parquet files under an hourly layout, deterministic from a seed.
 *
 * TWAPs are spread over wallets by a Zipf law (weight 1/rank^1.2), so a few bots own a
 * large share (at 1M rows the largest wallet has about 200,000 events) while most wallets
 * have a handful. Each TWAP has an `activated` event and usually a `finished`, `terminated`
 * or error one (see `makeEvents`); files rotate through the encodings the Artemis files use.
 */

import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeEvents, mulberry32, writeTwapParquetFile, type TwapParquetOptions } from '../tests/support/parquet.ts'

/** Where the data set lives and what it holds. */
export interface Dataset {
  dir: string
  seed: number
  rows: number
  files: DatasetFile[]
  /** First and last placement day covered, ISO dates; queries use `[start, end]`. */
  start: string
  end: string
}

export interface DatasetFile {
  /** Path relative to `dir`, in the hourly layout S3 keys use (`hourly/YYYY/MM/DD/HH/…`). */
  path: string
  rows: number
  bytes: number
  encoding: string
}

/** Coverage of the bucket starts here. */
const FIRST_DAY = Date.UTC(2025, 7, 17)
/** `makeEvents` places TWAPs 45 s apart on average. */
const MEAN_TWAP_GAP_MS = 45_000
const ZIPF_EXPONENT = 1.2
const RUNNING_SHARE = 0.02
/** Events per TWAP when `RUNNING_SHARE` of them have only their `activated` event. */
const EVENTS_PER_TWAP = 2 - RUNNING_SHARE

/** The encodings files rotate through, named for the report. */
const ENCODINGS: { name: string; options: TwapParquetOptions }[] = [
  { name: 'snappy, time timestamp[ns], decimal strings', options: { codec: 'SNAPPY', timeEncoding: 'timestamp-ns' } },
  { name: 'zstd, time timestamp[us], float64 numbers, JSON status', options: { codec: 'ZSTD', timeEncoding: 'timestamp-us', numberEncoding: 'float64', statusEncoding: 'json' } },
  { name: 'snappy, time ISO text, twap_id text', options: { codec: 'SNAPPY', timeEncoding: 'iso-string', twapIdEncoding: 'string' } },
  { name: 'zstd, time int64 ms, placement timestamp[ms]', options: { codec: 'ZSTD', timeEncoding: 'int64-ms', placedEncoding: 'timestamp-ms' } },
  { name: 'snappy, ms written as timestamp[ns] (Aug 2025 bug)', options: { codec: 'SNAPPY', timeEncoding: 'ms-in-ns-bug' } },
  { name: 'snappy, time timestamp[ms] not UTC-adjusted, float64 numbers', options: { codec: 'SNAPPY', timeEncoding: 'timestamp-ms', utcAdjusted: false, numberEncoding: 'float64' } },
  { name: 'zstd, no time column (placement time only)', options: { codec: 'ZSTD', timeEncoding: 'none' } },
  { name: 'zstd, time timestamp[ns], decimal strings', options: { codec: 'ZSTD', timeEncoding: 'timestamp-ns' } },
]

/**
 * The data set for `seed`, `rows` and `files`, written under `dir` unless a previous run
 * left the same one there (its manifest matches), since writing a million rows takes a
 * while and the files never change for the same parameters.
 */
export async function ensureDataset(dir: string, seed: number, rows: number, files: number): Promise<Dataset> {
  const manifestPath = join(dir, 'manifest.json')
  if (existsSync(manifestPath)) {
    const previous = JSON.parse(await readFile(manifestPath, 'utf8')) as Dataset
    if (previous.seed === seed && previous.rows === rows && previous.files.length === files) return { ...previous, dir }
  }
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const dataset = await writeDataset(dir, seed, rows, files)
  await writeFile(manifestPath, JSON.stringify(dataset, null, 2))
  return dataset
}

async function writeDataset(dir: string, seed: number, rows: number, fileCount: number): Promise<Dataset> {
  const random = mulberry32(seed)
  const wallets = walletAddresses(random, Math.max(50, Math.round(rows / 20)))
  const pickWallet = zipfSampler(random, wallets)
  const files: DatasetFile[] = []
  let twapId = 1_000_000
  let placed = FIRST_DAY
  for (let f = 0; f < fileCount; f++) {
    const fileRows = Math.floor((rows * (f + 1)) / fileCount) - Math.floor((rows * f) / fileCount)
    const twaps = Math.ceil(fileRows / EVENTS_PER_TWAP) + 1
    const events = makeEvents({
      wallets: Array.from({ length: twaps }, pickWallet),
      twapsPerWallet: 1,
      start: new Date(placed),
      seed: seed * 100_003 + f,
      firstTwapId: twapId,
      runningShare: RUNNING_SHARE,
    }).slice(0, fileRows)
    const encoding = ENCODINGS[f % ENCODINGS.length]!
    const path = hourlyPath(placed, f)
    await mkdir(join(dir, path, '..'), { recursive: true })
    await writeTwapParquetFile(join(dir, path), events, { ...encoding.options, rowGroupSize: Math.ceil(fileRows / 3) })
    files.push({ path, rows: fileRows, bytes: 0, encoding: encoding.name })
    twapId += twaps
    placed += twaps * MEAN_TWAP_GAP_MS
  }
  for (const file of files) file.bytes = (await stat(join(dir, file.path))).size
  return { dir, seed, rows, files, start: isoDay(FIRST_DAY), end: isoDay(placed + 2 * 86_400_000) }
}

/** `hourly/YYYY/MM/DD/HH/part-NNNNN.parquet` for a file starting at `ms`. */
function hourlyPath(ms: number, index: number): string {
  const iso = new Date(ms).toISOString()
  const [date, time] = iso.split('T') as [string, string]
  return `hourly/${date.replaceAll('-', '/')}/${time.slice(0, 2)}/part-${String(index).padStart(5, '0')}.parquet`
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** `count` distinct lower-case addresses (0x + 40 hex digits). */
function walletAddresses(random: () => number, count: number): string[] {
  const hex = '0123456789abcdef'
  return Array.from({ length: count }, () => {
    let address = '0x'
    for (let i = 0; i < 40; i++) address += hex[Math.floor(random() * 16)]
    return address
  })
}

/** Draws wallets with probability ∝ 1/rank^ZIPF_EXPONENT (rank 1 is `wallets[0]`). */
function zipfSampler(random: () => number, wallets: readonly string[]): () => string {
  const cumulative = new Float64Array(wallets.length)
  let total = 0
  for (let r = 0; r < wallets.length; r++) {
    total += 1 / (r + 1) ** ZIPF_EXPONENT
    cumulative[r] = total
  }
  return () => {
    const target = random() * total
    let lo = 0
    let hi = wallets.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if ((cumulative[mid] as number) < target) lo = mid + 1
      else hi = mid
    }
    return wallets[lo] as string
  }
}
