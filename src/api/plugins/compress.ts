import compress from '@fastify/compress'
import type { FastifyInstance } from 'fastify'

/**
 * Media types compressed: JSON (pages, problems), CSV and NDJSON exports. The plugin's own
 * rule misses NDJSON (`application/x-ndjson` is not `…/json`), so the list is given here.
 */
const COMPRESSIBLE = /^(?:application\/(?:json|problem\+json|x-ndjson)|text\/(?:csv|html|css|javascript|plain))(?:;|$)/

/**
 * Compresses answers when the client's `Accept-Encoding` allows (brotli, gzip or deflate,
 * in the client's order of preference): exports as they stream, through a compressing
 * stream; answers under 1 KB are sent as they are, where compressing costs more than it
 * saves. No `Accept-Encoding`, no compression.
 */
export async function configureCompression(app: FastifyInstance): Promise<void> {
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ['br', 'gzip', 'deflate'],
    customTypes: COMPRESSIBLE,
  })
}
