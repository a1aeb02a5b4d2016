/**
 * The database's limit for an export: `psql \copy` of the export's own page query over the
 * whole range, one statement, its CSV written to a file; the API's CSV export is read
 * against its rate.
 */

import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runMeasured } from './process.ts'
import { firstPageStatement } from './workload.ts'

export interface CopyOutRun {
  seconds: number
  bytes: number
}

/** A parameter as an SQL literal (the statement is sent as text inside `\copy`). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return `'${String(value).replace(/'/g, "''")}'`
}

/** `\copy (<the CSV export's page query for wallet in [start, end]>) TO file CSV HEADER`, timed. */
export async function copyOut(url: string, wallet: string, start: string, end: string, twaps: number): Promise<CopyOutRun> {
  const { sql, params } = await firstPageStatement(wallet, start, end, twaps + 1, false)
  const inlined = sql.replace(/\$(\d+)/g, (_, n: string) => literal(params[Number(n) - 1])).replace(/\s*\n\s*/g, ' ').trim()
  const dir = await mkdtemp(join(tmpdir(), 'hltwap-copyout-'))
  try {
    const file = join(dir, 'out.csv')
    const started = performance.now()
    const run = await runMeasured('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', `SET TimeZone = 'UTC'`, '-c', `\\copy (${inlined}) TO '${file}' WITH (FORMAT csv, HEADER)`], { env: process.env, cwd: dir })
    const seconds = (performance.now() - started) / 1000
    if (run.code !== 0) throw new Error(`psql \\copy failed: ${run.stderr}`)
    return { seconds, bytes: (await stat(file)).size }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
