import { Readable, Transform, pipeline } from 'node:stream'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { httpError } from './errors.ts'

declare module 'fastify' {
  interface FastifyInstance {
    exportSlots: ExportSlots
  }
}

/** Seconds a client turned away is told to wait: an export of the largest wallet takes a few. */
export const EXPORT_RETRY_AFTER_SECONDS = 5

/**
 * Lines formatted at a time by an export: each slice is one piece of the body, and the
 * stream yields to the event loop between pieces (see `boundedExport`), so that a probe or
 * a page arriving during an export waits for one slice, a few milliseconds of work, not
 * for a whole chunk of the database's rows.
 */
export const EXPORT_SLICE = 250

/** `items` in consecutive slices of `EXPORT_SLICE` (none for no items). */
export function* slices<T>(items: readonly T[]): Generator<T[]> {
  for (let i = 0; i < items.length; i += EXPORT_SLICE) yield items.slice(i, i + EXPORT_SLICE)
}

/** The exports streaming in this process, at most `max` at once. */
export class ExportSlots {
  inUse = 0
  readonly max: number
  constructor(max: number) {
    this.max = max
  }

  /** Takes a slot, or returns null when all are taken; the function it returns gives it back (once). */
  take(): (() => void) | null {
    if (this.inUse >= this.max) return null
    this.inUse++
    let held = true
    return () => {
      if (held) this.inUse--
      held = false
    }
  }
}

/**
 * The bound on concurrent exports, `EXPORT_MAX_CONCURRENT` per process: each export reads
 * the database and formats for seconds, and a burst of them left unbounded made every other
 * request, health checks included, wait behind them. Routes open exports through
 * `boundedExport`.
 */
async function exportSlots(app: FastifyInstance): Promise<void> {
  app.decorate('exportSlots', new ExportSlots(app.config.api.exportMaxConcurrent))
}

/**
 * The body of an export: what `open` streams, within a slot. A HEAD gets an empty body
 * without `open` running (Fastify's HEAD route would otherwise read the whole export to
 * discard it). When every slot is taken it throws a 503 with `Retry-After`. The slot is
 * given back when the stream ends, fails or the client goes away (Fastify then destroys the
 * stream, which stops the chunk reads). Between chunks the stream yields to the event loop,
 * so requests arriving meanwhile are served between an export's chunks, not after it.
 */
export async function boundedExport(request: FastifyRequest, open: () => Promise<Readable>): Promise<Readable> {
  if (request.method === 'HEAD') return Readable.from([])
  const release = request.server.exportSlots.take()
  if (!release) {
    throw httpError(503, `${request.server.exportSlots.max} exports are already streaming; retry in ${EXPORT_RETRY_AFTER_SECONDS} seconds.`, { 'retry-after': String(EXPORT_RETRY_AFTER_SECONDS) })
  }
  let source: Readable
  try {
    source = await open()
  } catch (err) {
    release()
    throw err
  }
  // The first chunk goes out at once: it commits the 200 and its headers, so a read that
  // fails after it cuts the body short instead of turning the answer into an error.
  let first = true
  const yielding = new Transform({
    transform(chunk, _encoding, done) {
      if (first) {
        first = false
        return done(null, chunk)
      }
      setImmediate(() => done(null, chunk))
    },
  })
  return pipeline(source, yielding, () => release())
}

export default fp(exportSlots, { name: 'export-slots', dependencies: ['store'] })
