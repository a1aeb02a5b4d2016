import cliProgress from 'cli-progress'
import type { Logger } from 'pino'
import type { CostEstimate } from '#src/source/source.ts'
import type { Plan } from './plan.ts'
import type { EtlReporter, EtlSummary, ObjectResult } from './run.ts'

const MB = 1024 * 1024

/**
 * Reports a run on a terminal: a progress bar of objects with MB, rows/s and ETA, and the
 * plan, failures and summary as plain lines above it.
 */
export function terminalReporter(out: NodeJS.WriteStream = process.stderr): EtlReporter {
  const bar = new cliProgress.SingleBar({
    stream: out,
    format: ' {bar} {value}/{total} objects | {mb} MB | {rate} rows/s | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: true,
    etaBuffer: 20,
  }, cliProgress.Presets.shades_classic)
  let bytes = 0
  let rows = 0
  let started = 0
  const values = () => ({ mb: (bytes / MB).toFixed(1), rate: Math.round(rows / Math.max(0.001, (performance.now() - started) / 1000)) })
  return {
    planned(plan, cost, dryRun) {
      out.write(describePlan(plan, cost, dryRun) + '\n')
      if (!dryRun && plan.fetch.length) {
        started = performance.now()
        bar.start(plan.fetch.length, 0, values())
      }
    },
    bytes(n) {
      bytes += n
    },
    rows(n) {
      rows += n
      bar.update(values())
    },
    objectDone(r) {
      // Clear the bar's line first; the bar draws itself again on the next update.
      if (!r.ok) out.write(`\r\x1b[Kfailed: ${r.key}: ${r.error}\n`)
      else if (r.rejected) out.write('\r\x1b[K' + describeRejections(r) + '\n')
      bar.increment(1, values())
    },
    finished(summary) {
      bar.stop()
      out.write(describeSummary(summary) + '\n')
    },
  }
}

/** Reports a run as structured log lines, for logs collected off a terminal. */
export function logReporter(logger: Logger): EtlReporter {
  return {
    planned(plan, cost, dryRun) {
      logger.info({ objects: plan.fetch.length, unchanged: plan.unchanged, bytes: plan.bytes, estimatedCostUsd: round(cost.usd), dryRun }, dryRun ? 'etl plan (dry run)' : 'etl plan')
      if (dryRun) for (const o of plan.fetch) logger.info({ key: o.key, bytes: o.size, reason: o.reason }, 'would fetch')
    },
    bytes() {},
    rows() {},
    objectDone(r: ObjectResult) {
      const fields = { key: r.key, bytes: r.bytes, inserted: r.inserted, duplicate: r.duplicate, rejected: r.rejected, ms: r.durationMs }
      if (!r.ok) logger.error({ ...fields, error: r.error }, 'object failed')
      else if (r.rejected) logger.warn({ ...fields, rejections: r.rejections }, 'object ingested with rejected rows')
      else logger.info(fields, 'object ingested')
    },
    finished(s: EtlSummary) {
      const { planned: _planned, ...fields } = s
      logger.info({ ...fields, cost: undefined, estimatedCostUsd: round(s.cost.usd), durationMs: Math.round(s.durationMs) }, describeSummary(s))
    },
  }
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6
}

/** The plan as a user reads it before paying: what will be fetched, how much, what it costs. */
export function describePlan(plan: Plan, cost: CostEstimate, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'would fetch' : 'fetching'} ${plan.fetch.length} object(s), ${formatBytes(plan.bytes)}; ${plan.unchanged} already ingested` +
      (cost.listRequests || cost.getRequests ? `; estimated requester-pays cost $${cost.usd.toFixed(4)} (${cost.listRequests} LIST, ${cost.getRequests} GET, ${formatBytes(cost.bytes)} out)` : ''),
  ]
  if (dryRun) {
    for (const o of plan.fetch.slice(0, 50)) lines.push(`  ${o.reason.padEnd(7)} ${formatBytes(o.size).padStart(10)}  ${o.key}`)
    if (plan.fetch.length > 50) lines.push(`  … and ${plan.fetch.length - 50} more`)
  }
  return lines.join('\n')
}

function describeRejections(r: ObjectResult): string {
  const reasons = r.rejections.map((x) => `row ${x.row}: ${x.reason}`).join('; ')
  return `${r.key}: ${r.rejected} row(s) rejected (${reasons}${r.rejected > r.rejections.length ? '; …' : ''})`
}

/** The one-line summary printed at the end of every run. */
export function describeSummary(s: EtlSummary): string {
  if (s.dryRun) return `dry run: nothing fetched; ${s.planned.length} object(s) to fetch, ${formatBytes(s.cost.bytes)}, estimated cost $${s.cost.usd.toFixed(4)}`
  const outcome = s.objectsLeft ? `stopped, ${s.objectsLeft} object(s) left for the next run` : s.objectsFailed ? 'finished with failures' : 'done'
  return `etl ${outcome}: objects ${s.objectsOk} ok, ${s.objectsFailed} failed, ${s.objectsSkipped} skipped; ` +
    `rows ${s.rowsInserted} inserted, ${s.rowsDuplicate} duplicate, ${s.rowsRejected} rejected` +
    (s.dataset === 'fills' ? `, ${s.rowsDropped} fills without a TWAP id not kept; ` : '; ') +
    `${formatBytes(s.bytes)} downloaded, estimated cost $${s.cost.usd.toFixed(4)}; ${(s.durationMs / 1000).toFixed(1)} s`
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < MB) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 * MB) return `${(n / MB).toFixed(1)} MB`
  return `${(n / 1024 / MB).toFixed(2)} GB`
}
