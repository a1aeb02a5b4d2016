import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.ts'
import { createTestStore, engine } from '../support/db.ts'
import { makeEvents, writeTwapParquet } from '../support/parquet.ts'

/** Why a small tmpfs cannot be mounted here (not root, no mount in a container…), or undefined. */
const noTmpfs: string | undefined = (() => {
  if (engine !== 'pglite') return 'the disk-full tests are for the embedded engine'
  const probe = mkdtempSync(join(tmpdir(), 'hltwap-tmpfs-probe-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' })
    execFileSync('umount', [probe], { stdio: 'pipe' })
    return undefined
  } catch (err) {
    return `cannot mount a tmpfs here (${String((err as { stderr?: Buffer }).stderr ?? err).trim()})`
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
})()
if (noTmpfs && engine === 'pglite') console.warn(`skipping the disk-full tests: ${noTmpfs}`)


describe.skipIf(noTmpfs !== undefined)('the embedded engine on a full disk', () => {
  let mountPoint = ''
  let files = ''
  let dataDir = ''
  let mounted = false

  /** A tmpfs holding a migrated store with `freeMiB` MiB left (about: the store takes ~40 MiB). */
  async function smallDisk(freeMiB: number): Promise<void> {
    const store = await createTestStore()
    const template = join(store.env.TWAP_DATA_DIR, 'pgdata')
    await store.close()
    const used = Number(execFileSync('du', ['-sm', template]).toString().split('\t')[0])
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${used + freeMiB}m`, 'tmpfs', mountPoint])
    mounted = true
    cpSync(template, join(dataDir, 'pgdata'), { recursive: true })
    rmSync(store.env.TWAP_DATA_DIR, { recursive: true, force: true })
  }

  async function parquetOf(name: string, twaps: number, firstTwapId: number): Promise<string> {
    const events = makeEvents({ seed: firstTwapId, firstTwapId, wallets: 10, twapsPerWallet: twaps / 10, runningShare: 0 })
    const path = join(files, name)
    writeFileSync(path, new Uint8Array(await writeTwapParquet(events)))
    return path
  }

  const etl = (...paths: string[]) =>
    runCli(['etl', '--concurrency', '1', ...paths.flatMap((p) => ['--local-file', p])], { env: { TWAP_DATA_DIR: dataDir, LOG_LEVEL: 'info' }, timeoutMs: 120_000 })

  const rows = async () => {
    const { rows: [row] } = await (await import('#src/store/pglite.ts')).openPglite(dataDir).then(async (db) => {
      try {
        return await db.query<{ n: number }>('SELECT count(*)::int AS n FROM twap_status')
      } finally {
        await db.close()
      }
    })
    return row!.n
  }

  beforeEach(() => {
    mountPoint = mkdtempSync(join(tmpdir(), 'hltwap-disk-'))
    files = mkdtempSync(join(tmpdir(), 'hltwap-disk-files-'))
    dataDir = join(mountPoint, 'data')
  })
  afterEach(() => {
    if (mounted) execFileSync('umount', ['-l', mountPoint])
    mounted = false
    rmSync(mountPoint, { recursive: true, force: true })
    rmSync(files, { recursive: true, force: true })
  })

  const grow = (totalMiB: number) => execFileSync('mount', ['-o', `remount,size=${totalMiB}m`, mountPoint])

  it('stops the run with "no space left on device" and exit 1 when a write would not fit, and ingests once space is freed', async () => {
    await smallDisk(20)
    mkdirSync(dataDir, { recursive: true })
    const a = await parquetOf('a.parquet', 1_000, 7_000_000)
    const b = await parquetOf('b.parquet', 1_000, 7_100_000)

    const full = await etl(a, b)

    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(new RegExp(`\\nhl-twap: the database became unavailable during the run \\(embedded database in ${dataDir}: no space left on device in ${dataDir}: \\d+ MiB free, a write needs 64 MiB \\(ENOSPC\\)\\); 0 object\\(s\\) ingested, 1 failed, 1 left for the next run\\n$`))
    expect(existsSync(join(dataDir, 'hl-twap.lock'))).toBe(false)

    grow(400)
    const freed = await etl(a, b)
    expect(freed.code, freed.stderr).toBe(0)
    expect(await rows()).toBe(4_000)
  }, 180_000)

  it('exits 1 with one line, instead of hanging, when the disk fills in the middle of a load; keeps what was committed and ingests the rest once space is freed', async () => {
    await smallDisk(70)
    const small = await parquetOf('a-small.parquet', 1_000, 7_200_000)
    const large = await parquetOf('b-large.parquet', 60_000, 7_300_000)

    const full = await etl(small, large)

    expect(full.code).toBe(1)
    expect(full.stderr).toMatch(new RegExp(`\\nhl-twap: no space left on device in ${dataDir}: the embedded database stopped mid-write; what was committed is kept, the transaction in progress is not \\(free some space and start again\\)\\n$`))
    expect(existsSync(join(dataDir, 'hl-twap.lock'))).toBe(false)
    const stillFull = await etl(small, large)
    expect(stillFull.code).toBe(1)
    expect(stillFull.stderr).toMatch(/hl-twap: [^\n]*no space left on device in /)
    expect(stillFull.stderr).not.toMatch(/damaged|failed to initialize/)

    grow(600)
    const freed = await etl(small, large)
    expect(freed.code, freed.stderr).toBe(0)
    expect(freed.stderr).toMatch(/objects 1 ok, 0 failed, 1 skipped/)
    expect(await rows()).toBe(2 * 61_000)
  }, 300_000)
})

