/**
 * `npm run bench:fills -- --api`: the fills API with many fills stored. Generates them in
 * PostgreSQL itself (`generate_series` into `twap_fill` and `twap_fill_object`, secondary
 * indexes built after the rows, foreign-key triggers off while loading), then times
 * `/api/v1/twaps/{id}/fills` and a wallet's first page of `/api/v1/fills` through a real
 * `hl-twap serve`, and reports bytes per stored fill.
 */

import { percentile } from './load-test.ts'
import { timedGet } from './pages.ts'
import { createScratchDb } from './postgres.ts'
import { startServer, type Server } from './process.ts'

/** Fills per TWAP in the generated data (a TWAP of a few hours at one slice a minute or so). */
const FILLS_PER_TWAP = 50
const WALLETS = 20_000
const BATCH = 1_000_000
const REQUESTS = 200
const FIRST_TWAP = 1_000_000
const START = '2025-08-01T00:00:00Z'
/** Seconds between consecutive generated fills: 20 million cover about a year. */
const STEP_SECONDS = 1.5

export interface FillsApiOptions {
  adminUrl: string
  fills: number
}

export interface FillsApiResults {
  fills: number
  twaps: number
  loadSeconds: number
  bytesPerFill: { table: number; all: number }
  rows: { what: string; url: string; p50: number; p99: number; items: number }[]
  largestWallet: { wallet: string; fills: number }
}

// A wallet per TWAP, skewed (the cube of a hash spread over the wallets): a few wallets hold
// many TWAPs, most hold a few, as on the exchange.
const WALLET_OF = (twap: string) => `'0x' || lpad(to_hex((floor(${WALLETS} * power(((${twap}::bigint * 2654435761) % 1000003) / 1000003.0, 3)))::int), 8, '0') || repeat('ab', 16)`

const INSERT_FILLS = `
  INSERT INTO twap_fill (twap_id, wallet, time, coin, side, px, sz, fee, fee_token, builder_fee, closed_pnl, start_position,
                         dir, crossed, oid, tid, hash, block_number, block_time, s3_object_key, raw_payload)
  SELECT twap::text, wallet, ts, coin, side, px, sz, fee, 'USDC', NULL, pnl, sp, dir, crossed, oid::text, tid::text, hash,
         776534347 + g, ts, 'node_fills_by_block/hourly/' || to_char(ts, 'YYYYMMDD') || '/' || extract(hour FROM ts)::int || '.lz4',
         jsonb_build_object('coin', coin, 'px', px::text, 'sz', sz::text, 'side', side, 'time', (extract(epoch FROM ts) * 1000)::bigint,
           'startPosition', sp::text, 'dir', dir, 'closedPnl', pnl::text, 'hash', hash, 'oid', oid, 'crossed', crossed,
           'fee', fee::text, 'tid', tid, 'feeToken', 'USDC', 'twapId', twap)
    FROM (
      SELECT g, ${FIRST_TWAP} + g / ${FILLS_PER_TWAP} AS twap,
             ${WALLET_OF(`(${FIRST_TWAP} + g / ${FILLS_PER_TWAP})`)} AS wallet,
             $3::timestamptz + make_interval(secs => g * ${STEP_SECONDS}) AS ts,
             (ARRAY['HYPE', 'BTC', '@107', 'xyz:NVDA'])[1 + (g / ${FILLS_PER_TWAP}) % 4] AS coin,
             CASE WHEN (g / ${FILLS_PER_TWAP}) % 2 = 0 THEN 'B' ELSE 'A' END AS side,
             round((40 + (g % 1000) / 100.0)::numeric, 3) AS px,
             round((0.01 + (g % 500) / 100.0)::numeric, 2) AS sz,
             round(((g % 100) / 1000.0 - 0.01)::numeric, 6) AS fee,
             round(((g % 2000) / 100.0 - 10)::numeric, 6) AS pnl,
             round(((g % 50000) / 100.0)::numeric, 2) AS sp,
             (ARRAY['Open Long', 'Close Long', 'Open Short', 'Close Short', 'Buy', 'Sell'])[1 + (g / ${FILLS_PER_TWAP}) % 6] AS dir,
             g % 2 = 0 AS crossed,
             9007199254740993 + g * 7 AS oid,
             990908538720549123 + g AS tid,
             '0x' || repeat('0', 64) AS hash
        FROM generate_series($1::bigint, $2::bigint) AS g
    ) s`

/** Stores `options.fills` generated fills in a fresh database, then measures the two routes. */
export async function measureFillsApi(options: FillsApiOptions, log: (line: string) => void): Promise<FillsApiResults> {
  const db = await createScratchDb(options.adminUrl, 'fillsapi')
  try {
    const started = performance.now()
    // Secondary indexes are built once after the rows (as a restore does), not row by row.
    const indexes = await db.query<{ name: string; def: string }>(
      `SELECT indexname AS name, indexdef AS def FROM pg_indexes
        WHERE tablename IN ('twap_fill', 'twap_fill_object') AND indexname NOT IN ('twap_fill_pkey', 'twap_fill_object_pkey')`)
    for (const index of indexes) await db.query(`DROP INDEX ${index.name}`)
    for (let from = 0; from < options.fills; from += BATCH) {
      const to = Math.min(options.fills, from + BATCH) - 1
      // No foreign-key triggers while loading rows made to match (the load is a superuser's).
      await db.query(`SET session_replication_role = replica; ${INSERT_FILLS.replace('$1::bigint', String(from)).replace('$2::bigint', String(to)).replace('$3::timestamptz', `'${START}'::timestamptz`)}`)
      await db.query(`SET session_replication_role = replica;
        INSERT INTO twap_fill_object (s3_object_key, fill_id) SELECT s3_object_key, id FROM twap_fill WHERE id BETWEEN ${from + 1} AND ${to + 1}`)
      log(`bench:fills --api: ${to + 1} fills stored (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
    for (const index of indexes) {
      await db.query(index.def)
      log(`bench:fills --api: index ${index.name} built (${((performance.now() - started) / 1000).toFixed(0)} s)`)
    }
    await db.query('VACUUM ANALYZE twap_fill')
    await db.query('VACUUM ANALYZE twap_fill_object')
    const loadSeconds = (performance.now() - started) / 1000

    const [size] = await db.query<{ fills: string; table: string; all: string }>(
      `SELECT (SELECT count(*) FROM twap_fill)::text AS fills, pg_total_relation_size('twap_fill')::text AS table,
              (pg_total_relation_size('twap_fill') + pg_total_relation_size('twap_fill_object'))::text AS all`)
    const fills = Number(size!.fills)
    const [largest] = await db.query<{ wallet: string; fills: string }>(
      'SELECT wallet, count(*)::text AS fills FROM twap_fill GROUP BY wallet ORDER BY count(*) DESC LIMIT 1')
    const [typical] = await db.query<{ wallet: string; fills: string }>(
      `SELECT wallet, fills::text FROM (SELECT wallet, count(*) AS fills FROM twap_fill GROUP BY wallet) w
        ORDER BY fills LIMIT 1 OFFSET (SELECT count(DISTINCT wallet) / 2 FROM twap_fill)`)

    const server = await serverStarted({ PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: db.url, LOG_LEVEL: 'warn' })
    try {
      const twaps = Math.ceil(options.fills / FILLS_PER_TWAP)
      const end = new Date(Date.parse(START) + options.fills * STEP_SECONDS * 1000 + 1000).toISOString()
      const range = `start=${START}&end=${end}`
      const time = async (what: string, urls: (i: number) => string, count: (body: string) => number) => {
        const times: number[] = []
        let items = 0
        for (let i = 0; i < 10; i++) await timedGet(server.url + urls(i))
        for (let i = 0; i < REQUESTS; i++) {
          const { ms, body } = await timedGet(server.url + urls(i))
          times.push(ms)
          items = count(body)
        }
        times.sort((a, b) => a - b)
        return { what, url: urls(0), p50: percentile(times, 0.5), p99: percentile(times, 0.99), items }
      }
      // Different TWAPs and wallets each time: cached pages would measure the cache.
      const twapAt = (i: number) => FIRST_TWAP + Math.floor(((i * 7919) % twaps))
      const wallets = (await db.query<{ wallet: string }>(
        `SELECT wallet FROM twap_fill WHERE twap_id = ANY($1::text[]) GROUP BY wallet`, [Array.from({ length: REQUESTS + 10 }, (_, i) => String(twapAt(i)))])).map((r) => r.wallet)
      const rows = [
        await time(`\`/api/v1/twaps/{id}/fills\`, ${FILLS_PER_TWAP} fills and totals`, (i) => `/api/v1/twaps/${twapAt(i)}/fills`, (b) => (JSON.parse(b) as { fills: unknown[] }).fills.length),
        await time('`/api/v1/fills` first page, a wallet of the TWAPs above (whole range)', (i) => `/api/v1/fills?wallet=${wallets[i % wallets.length]}&${range}`, (b) => (JSON.parse(b) as { fills: unknown[] }).fills.length),
        await time(`\`/api/v1/fills\` first page, the median wallet (${Number(typical!.fills).toLocaleString('en-US')} fills)`, () => `/api/v1/fills?wallet=${typical!.wallet}&${range}`, (b) => (JSON.parse(b) as { fills: unknown[] }).fills.length),
        await time(`\`/api/v1/fills\` first page, the largest wallet (${Number(largest!.fills).toLocaleString('en-US')} fills)`, () => `/api/v1/fills?wallet=${largest!.wallet}&${range}`, (b) => (JSON.parse(b) as { fills: unknown[] }).fills.length),
      ]
      return {
        fills, twaps, loadSeconds, rows,
        bytesPerFill: { table: Math.round(Number(size!.table) / fills), all: Math.round(Number(size!.all) / fills) },
        largestWallet: { wallet: largest!.wallet, fills: Number(largest!.fills) },
      }
    } finally {
      await server.stop()
    }
  } finally {
    await db.drop()
  }
}

/** `hl-twap serve` started, tried three times: on a loaded machine its start-up can pass the one-minute wait. */
async function serverStarted(env: NodeJS.ProcessEnv): Promise<Server> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServer(env, process.cwd())
    } catch (err) {
      if (attempt === 3) throw err
    }
  }
}

/** The results as a Markdown section. */
export function fillsApiMarkdown(r: FillsApiResults): string {
  return [
    '## Fills API with many fills stored',
    '',
    `\`npm run bench:fills -- --api --fills ${r.fills}\` on PostgreSQL: ${r.fills.toLocaleString('en-US')} fills of ${r.twaps.toLocaleString('en-US')} TWAPs (${FILLS_PER_TWAP} each) over ${WALLETS.toLocaleString('en-US')} wallets, skewed (largest: ${r.largestWallet.fills.toLocaleString('en-US')} fills), a year of times, generated in PostgreSQL with \`generate_series\` into \`twap_fill\` and \`twap_fill_object\` (one hourly object per fill's hour) in ${r.loadSeconds.toFixed(0)} s, secondary indexes built after the rows. ${REQUESTS} requests each, one at a time, a different TWAP or wallet each time where the row says so, through \`hl-twap serve\` (goal ≤ 20 ms).`,
    '',
    '| request | fills answered | p50 | p99 |',
    '|---|---:|---:|---:|',
    ...r.rows.map((x) => `| ${x.what} | ${x.items} | ${x.p50.toFixed(1)} ms | ${x.p99.toFixed(1)} ms |`),
    '',
    `Bytes per stored fill: ${r.bytesPerFill.table} in \`twap_fill\` with its indexes and raw payload, ${r.bytesPerFill.all} with \`twap_fill_object\` (which objects hold each fill).`,
    '',
  ].join('\n')
}
