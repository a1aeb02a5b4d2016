import { chmodSync, rmSync } from 'node:fs'
import { createConnection, createServer, type Socket } from 'node:net'
import { join, resolve } from 'node:path'
import { constants } from 'node:os'
import { createInterface } from 'node:readline'
import type { Logger } from 'pino'
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { DATASET_NAMES, type Config, type DatasetName } from '#src/config.ts'
import type { Metrics } from '#src/metrics.ts'
import type { Db } from '#src/store/db.ts'
import { isDatabaseUnavailable } from '#src/store/unavailable.ts'
import type { CostEstimate } from '#src/source/source.ts'
import type { Plan, PlannedObject } from './plan.ts'
import { logReporter } from './progress.ts'
import { runEtl, type EtlReporter, type EtlSource, type EtlSummary, type ObjectResult } from './run.ts'

/**
 * `hl-twap etl` while a server holds the embedded store. PGlite is single-process, so a
 * second process cannot open the data directory; the server that holds it listens on a
 * Unix socket in that directory, owner-only, and runs the ingest it is asked for in its
 * own process, streaming the run's progress back. The protocol is one JSON object a line:
 * the client sends one run request (and `{"stop":true}` on Ctrl-C), the server answers
 * with the reporter's events and a last `end`.
 */
export const SOCKET_FILE = 'hl-twap.sock'

/** Bumped when a message changes meaning, so a server and a client of different versions say so. */
const PROTOCOL = 1

/** The longest Unix socket path Linux and macOS take (`sun_path`, less its terminating NUL). */
const MAX_SOCKET_PATH = 103

const RunRequest = Type.Object({
  datasets: Type.Array(Type.Unsafe<DatasetName>({ type: 'string', enum: [...DATASET_NAMES] }), { minItems: 1 }),
  source: Type.Union([
    Type.Object({ kind: Type.Literal('incremental'), since: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T' })) }),
    Type.Object({ kind: Type.Literal('object'), key: Type.String({ minLength: 1 }) }),
    Type.Object({ kind: Type.Literal('local'), paths: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }) }),
  ]),
  dryRun: Type.Optional(Type.Boolean()),
  force: Type.Optional(Type.Boolean()),
  maxBytes: Type.Optional(Type.Integer({ minimum: 1 })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1 })),
})

/** What `hl-twap etl` asks the server to run: its options, `--local-file` paths absolute. */
export type RunRequest = Static<typeof RunRequest>

/** How a run asked of the server ended; the CLI turns it into its exit code. */
export type Outcome = 'ok' | 'failed' | 'usage' | 'busy'

type ServerMessage =
  | { event: 'planned'; plan: Plan; cost: CostEstimate; dryRun: boolean }
  | { event: 'bytes'; n: number }
  | { event: 'rows'; n: number }
  | { event: 'objectDone'; result: ObjectResult }
  | { event: 'finished'; summary: EtlSummary }
  | { event: 'warn'; msg: string; fields: Record<string, unknown> }
  | { event: 'end'; outcome: Outcome; message?: string }

export interface RemoteEtlDeps {
  db: Db
  config: Config
  logger: Logger
  metrics?: Metrics
}

/** Where the server holding `dataDir` listens. */
export function socketPath(dataDir: string): string {
  return join(resolve(dataDir), SOCKET_FILE)
}

/**
 * Listens on `<dataDir>/hl-twap.sock` for `hl-twap etl` runs, one at a time (the ETL lock
 * refuses a second, as it refuses a run beside a scheduled one). The socket is created
 * owner-only. Any socket file already there is a dead server's: this process holds the
 * directory's lock. Resolves with `close`, which stops listening, stops a run in progress
 * after its objects in flight and waits for it. A path too long for a socket is logged,
 * and the server runs without it.
 */
export async function listenForEtl(deps: RemoteEtlDeps, dataDir: string): Promise<{ path: string; close: () => Promise<void> }> {
  const path = socketPath(dataDir)
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    deps.logger.warn({ socket: path }, `the data directory's path is too long for a Unix socket: \`hl-twap etl\` cannot ask this server to ingest; stop it to run one`)
    return { path, close: async () => {} }
  }
  const runs = new Set<Promise<void>>()
  const connections = new Set<{ socket: Socket; stop: AbortController }>()
  let closing = false
  const server = createServer((socket) => {
    const connection = { socket, stop: new AbortController() }
    connections.add(connection)
    socket.on('close', () => {
      connections.delete(connection)
      // A client that went away (killed, or a second Ctrl-C) stops its run as Ctrl-C would.
      connection.stop.abort()
    })
    socket.on('error', () => {})
    const run = serveConnection(socket, connection.stop.signal, deps, resolve(dataDir), () => closing)
    runs.add(run)
    void run.finally(() => runs.delete(run))
  })
  rmSync(path, { force: true })
  // The socket file takes the umask's permissions when it is bound: owner-only from the
  // first instant, not after a chmod that another user could race.
  const umask = process.umask(0o177)
  try {
    await new Promise<void>((done, fail) => {
      server.once('error', fail)
      server.listen(path, () => {
        server.off('error', fail)
        done()
      })
    })
  } finally {
    process.umask(umask)
  }
  chmodSync(path, 0o600)
  deps.logger.info({ socket: path }, '`hl-twap etl` on this data directory runs in this server')
  return {
    path,
    async close() {
      closing = true
      const stopped = new Promise<void>((done) => server.close(() => done()))
      for (const c of connections) c.stop.abort()
      await Promise.allSettled([...runs])
      for (const c of connections) c.socket.destroy()
      await stopped
      rmSync(path, { force: true })
    },
  }
}

/** Reads one connection's request, runs it, and streams the run back. */
async function serveConnection(socket: Socket, stop: AbortSignal, deps: RemoteEtlDeps, dataDir: string, closing: () => boolean): Promise<void> {
  const send = (message: ServerMessage) => {
    if (!socket.destroyed) socket.write(JSON.stringify(message) + '\n')
  }
  const lines = createInterface({ input: socket, crlfDelay: Infinity })[Symbol.asyncIterator]()
  const first = await lines.next().catch(() => ({ done: true as const, value: undefined }))
  if (first.done) return
  const request = parseLine(first.value) as { protocol?: unknown; run?: unknown } | undefined
  if (request?.protocol !== PROTOCOL || !Value.Check(RunRequest, request.run)) {
    const message = request?.protocol !== undefined && request.protocol !== PROTOCOL
      ? `the server holding ${dataDir} runs another version of hl-twap (protocol ${String(request.protocol)} asked, ${PROTOCOL} spoken): run the same installation's hl-twap etl`
      : `the server holding ${dataDir} did not understand the request: ${describeInvalid(request?.run)}`
    send({ event: 'end', outcome: 'usage', message })
    socket.end()
    return
  }
  const abort = new AbortController()
  stop.addEventListener('abort', () => abort.abort(), { once: true })
  // Later lines can only ask to stop.
  void (async () => {
    for (let line = await lines.next().catch(() => undefined); line && !line.done; line = await lines.next().catch(() => undefined)) {
      if ((parseLine(line.value) as { stop?: unknown } | undefined)?.stop === true) abort.abort()
    }
  })()
  const outcome = await run(request.run, { ...deps, reporter: tee(logReporter(deps.logger), streamed(send)) }, abort.signal, send, dataDir)
  send(closing() && outcome.stopped && outcome.outcome === 'ok'
    ? { event: 'end', outcome: 'failed', message: `the server holding ${dataDir} is shutting down: the run stopped after the objects in flight; run it again once the server is back` }
    : { event: 'end', outcome: outcome.outcome, message: outcome.message })
  socket.end()
}

/** Runs the request's datasets in order, as `hl-twap etl` does; `stopped` when the signal cut it short. */
async function run(request: RunRequest, deps: RemoteEtlDeps & { reporter: EtlReporter }, signal: AbortSignal, send: (m: ServerMessage) => void, dataDir: string): Promise<{ outcome: Outcome; message?: string; stopped?: boolean }> {
  const source: EtlSource = request.source.kind === 'incremental'
    ? { kind: 'incremental', since: request.source.since === undefined ? undefined : new Date(request.source.since) }
    : request.source
  deps.logger.info({ datasets: request.datasets, source: request.source.kind, dryRun: request.dryRun ?? false }, 'etl run asked for by hl-twap etl')
  try {
    let failed = false
    let stopped = false
    for (const dataset of request.datasets) {
      if (signal.aborted) {
        stopped = true
        break
      }
      const summary = await runEtl(deps, {
        source, dataset, dryRun: request.dryRun, force: request.force, maxBytes: request.maxBytes, concurrency: request.concurrency, signal,
      })
      if (source.kind === 'local' && summary.objectsOk + summary.objectsFailed + summary.objectsSkipped === 0) {
        const fields = { paths: source.paths, dataset }
        const msg = `no ${dataset === 'fills' ? '.lz4 or parquet' : 'parquet'} files in ${source.paths.join(', ')}: nothing was ingested`
        deps.logger.warn(fields, msg)
        send({ event: 'warn', msg, fields })
      }
      failed ||= summary.objectsFailed > 0
      stopped ||= summary.objectsLeft > 0
    }
    return { outcome: failed ? 'failed' : 'ok', stopped }
  } catch (err) {
    return describeFailure(err, dataDir)
  }
}

/** A run that could not proceed, as the CLI reports the same error when it runs the ETL itself. */
function describeFailure(err: unknown, dataDir: string): { outcome: Outcome; message: string } {
  const e = err as Error
  if (e.name === 'EtlBusyError') {
    return { outcome: 'busy', message: `the embedded database in ${dataDir} is in use by an ETL run already in progress in the server that holds it (process ${process.pid}); try again once it has finished` }
  }
  if (e.name === 'EtlRefusedError') return { outcome: 'usage', message: e.message }
  if (e.name !== 'EtlDatabaseLostError' && isDatabaseUnavailable(err)) return { outcome: 'failed', message: `the database is unavailable: ${e.message}` }
  return { outcome: 'failed', message: e.message || String(err) }
}

/** A reporter that sends every event down the connection. */
function streamed(send: (m: ServerMessage) => void): EtlReporter {
  return {
    planned: (plan, cost, dryRun) => send({ event: 'planned', plan, cost, dryRun }),
    bytes: (n) => send({ event: 'bytes', n }),
    rows: (n) => send({ event: 'rows', n }),
    objectDone: (result) => send({ event: 'objectDone', result }),
    finished: (summary) => send({ event: 'finished', summary }),
  }
}

function tee(a: EtlReporter, b: EtlReporter): EtlReporter {
  return {
    planned: (...args) => { a.planned(...args); b.planned(...args) },
    bytes: (n) => { a.bytes(n); b.bytes(n) },
    rows: (n) => { a.rows(n); b.rows(n) },
    objectDone: (r) => { a.objectDone(r); b.objectDone(r) },
    finished: (s) => { a.finished(s); b.finished(s) },
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line) as unknown
  } catch {
    return undefined
  }
}

function describeInvalid(value: unknown): string {
  const first = Value.Errors(RunRequest, value)[0]
  return first ? `${first.instancePath || 'the request'} ${first.message}` : 'not a run request'
}

/** The signals a client passes on as a stop, and the exit status they give the CLI. */
export type StopSignal = 'SIGINT' | 'SIGTERM'

export interface RemoteAnswer {
  outcome: Outcome
  message?: string
  /** The signal that stopped the run, when the user stopped it. */
  signal?: StopSignal
}

/**
 * Asks the server holding `dataDir` to run `request`, feeding its progress to `reporter`
 * (and its warnings to `logger`) as if the run were here. Resolves with how it ended, or
 * with undefined when no server listens there (a plain `hl-twap etl` holds the directory,
 * or a server too old to be asked), so the caller says the directory is busy. The first
 * SIGINT or SIGTERM asks the server to stop after the objects in flight; a second exits at
 * once (the server then stops the same way: nothing committed is lost).
 */
export async function runOnServer(dataDir: string, request: RunRequest, reporter: EtlReporter, logger: Logger): Promise<RemoteAnswer | undefined> {
  const path = socketPath(dataDir)
  let socket: Socket
  try {
    socket = await new Promise<Socket>((done, fail) => {
      const s = createConnection(path, () => {
        s.off('error', fail)
        done(s)
      })
      s.once('error', fail)
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') {
      return { outcome: 'busy', message: `the server holding ${resolve(dataDir)} runs as another user: its socket ${path} is not yours; run hl-twap etl as that user` }
    }
    return undefined
  }
  let received: StopSignal | undefined
  const onSignal = (signal: StopSignal) => {
    if (received) process.exit(128 + constants.signals[signal])
    received = signal
    logger.warn(`${signal}: stopping after the objects in flight; send it again to stop at once`)
    socket.write(JSON.stringify({ stop: true }) + '\n')
  }
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => onSignal(signal)] as const)
  for (const [signal, handler] of handlers) process.on(signal, handler)
  try {
    socket.write(JSON.stringify({ protocol: PROTOCOL, run: request }) + '\n')
    socket.on('error', () => {})
    let end: { outcome: Outcome; message?: string } | undefined
    for await (const line of createInterface({ input: socket, crlfDelay: Infinity })) {
      const message = parseLine(line) as ServerMessage | undefined
      if (!message) continue
      if (message.event === 'end') {
        end = message
        break
      }
      deliver(message, reporter, logger)
    }
    socket.destroy()
    return { ...(end ?? { outcome: 'failed', message: `the server holding ${resolve(dataDir)} closed the connection before the run ended (did it stop?)` }), signal: received }
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler)
  }
}

function deliver(message: Exclude<ServerMessage, { event: 'end' }>, reporter: EtlReporter, logger: Logger): void {
  switch (message.event) {
    case 'planned': return reporter.planned(revivePlan(message.plan), message.cost, message.dryRun)
    case 'bytes': return reporter.bytes(message.n)
    case 'rows': return reporter.rows(message.n)
    case 'objectDone': return reporter.objectDone(message.result)
    case 'finished': return reporter.finished({ ...message.summary, planned: message.summary.planned.map(revive) })
    case 'warn': return logger.warn(message.fields, message.msg)
  }
}

/** JSON carried the objects' `lastModified` as text; the reporters get the `Date` a local run gives. */
function revive(o: PlannedObject): PlannedObject {
  return { ...o, lastModified: new Date(o.lastModified) }
}

function revivePlan(plan: Plan): Plan {
  return { ...plan, fetch: plan.fetch.map(revive) }
}
