import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

/**
 * The explorer's own files: plain ES modules and CSS, served as they are written from
 * src/web, whether this module runs from src/ or compiled in dist/ (both sit at the root).
 */
export const WEB_DIR = fileURLToPath(new URL('../../../src/web/', import.meta.url))
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.esm.js'))
const VENDOR_FILES = new Set(['uPlot.esm.js', 'uPlot.min.css'])

/**
 * Everything the page loads comes from this service, so the policy allows nothing else: no
 * inline script or style, no other origin, no framing. The chart library styles its canvas
 * through the DOM, which `style-src 'self'` allows.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

/** The headers every explorer response carries. */
export function setPageHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'no-referrer')
}

/** The explorer's HTML, read once: `GET /` sends it to browsers (see `routes/root.ts`). */
export const EXPLORER_HTML = readFileSync(`${WEB_DIR}index.html`, 'utf8')

/** Sends the explorer page. */
export function sendExplorer(reply: FastifyReply): FastifyReply {
  setPageHeaders(reply)
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(EXPLORER_HTML)
}

/**
 * `/assets/…`: the explorer's scripts and styles, and under `/assets/vendor/` the chart
 * library straight from its npm package, so the page works offline and nothing is built.
 * Files are revalidated on each load (`no-cache` with ETag), so an upgrade shows at once.
 */
const web: FastifyPluginAsync = async (app) => {
  const options = {
    cacheControl: false,
    etag: true,
    lastModified: true,
    schemaHide: true,
    setHeaders: (reply: FastifyReply) => {
      reply.header('cache-control', 'no-cache')
      setPageHeaders(reply)
    },
  }
  await app.register(fastifyStatic, {
    ...options, root: WEB_DIR, prefix: '/assets/', index: false, allowedPath: (path) => /^\/[a-z-]+\.(js|css|svg)$/.test(path),
  })
  await app.register(fastifyStatic, {
    ...options, root: UPLOT_DIR, prefix: '/assets/vendor/', decorateReply: false, index: false,
    allowedPath: (path) => VENDOR_FILES.has(path.slice(1)),
  })
}

export default web
