import { negotiate } from '@fastify/accept-negotiator'
import compress from '@fastify/compress'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * Media types compressed: JSON (pages, problems), CSV and NDJSON exports. The plugin's own
 * rule misses NDJSON (`application/x-ndjson` is not `…/json`), so the list is given here.
 */
const COMPRESSIBLE = /^(?:application\/(?:json|problem\+json|x-ndjson)|text\/(?:csv|html|css|javascript|plain))(?:;|$)/

/** The codings offered, preferred first where the client gives them equal weight. */
const ENCODINGS: ('br' | 'gzip' | 'deflate')[] = ['br', 'gzip', 'deflate']

/**
 * The coding an answer to `acceptEncoding` gets when it is compressed, chosen the way the
 * plugin chooses it (`*` and `x-gzip` taken as gzip), or `identity`: what an ETag must tell
 * apart, since the bytes differ by coding and by nothing else in the header.
 */
export function negotiatedEncoding(acceptEncoding: string | undefined): string {
  if (acceptEncoding === undefined) return 'identity'
  return negotiate(acceptEncoding.toLowerCase().replace(/\*|x-gzip/gu, 'gzip'), ENCODINGS) ?? 'identity'
}

/**
 * Compresses answers when the client's `Accept-Encoding` allows (brotli, gzip or deflate,
 * in the client's order of preference): exports as they stream, through a compressing
 * stream; answers under 1 KB are sent as they are, where compressing costs more than it
 * saves. No `Accept-Encoding`, no compression.
 */
async function compression(app: FastifyInstance): Promise<void> {
  await app.register(compress, {
    global: true,
    threshold: 1024,
    encodings: ENCODINGS,
    customTypes: COMPRESSIBLE,
  })
}

export default fp(compression, { name: 'compress' })
