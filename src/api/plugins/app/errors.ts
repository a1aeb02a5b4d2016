import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { isDatabaseUnavailable } from '#src/store/unavailable.ts'
import { PROBLEM_MEDIA_TYPE, type ParameterError, type ProblemBody } from '#src/api/schemas/problem.ts'
import { parameterErrors } from './validation.ts'

/** Thrown by a handler whose parameters passed their schemas but not its own checks. */
export class InvalidParameters extends Error {
  override name = 'InvalidParameters'
  readonly errors: ParameterError[]
  constructor(errors: ParameterError[]) {
    super(describe(errors))
    this.errors = errors
  }
}

/**
 * An error carrying the HTTP status to answer with, a message safe to show a client, and
 * headers its answer needs (`Retry-After`, `WWW-Authenticate`).
 */
export function httpError(statusCode: number, message: string, headers: Record<string, string> = {}): Error & { statusCode: number; headers: Record<string, string> } {
  return Object.assign(new Error(message), { statusCode, headers })
}

/**
 * Makes every error an RFC 9457 `application/problem+json` answer: 422 naming each bad
 * parameter, 404 for unknown routes, 405 with `Allow` for a known path asked with another
 * method, 503 when the database is unreachable, the client
 * errors Fastify and its plugins raise with their own status, and for anything else a 500
 * that shows no internals (the log has them, under the request id the client got).
 */
async function errors(app: FastifyInstance): Promise<void> {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      const errors = parameterErrors(error.validation, error.validationContext ?? 'request')
      return sendProblem(reply, 422, { title: 'Invalid request parameters', detail: describe(errors), errors })
    }
    if (error instanceof InvalidParameters) {
      return sendProblem(reply, 422, { title: 'Invalid request parameters', detail: error.message, errors: error.errors })
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error }, 'database unavailable')
      return sendProblem(reply, 503, { detail: 'The database is unreachable; try again later.' })
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500
    if ((status >= 400 && status < 500) || (status === 503 && 'headers' in error)) {
      const headers = (error as { headers?: unknown }).headers
      if (headers && typeof headers === 'object') reply.headers(headers)
      return sendProblem(reply, status, { detail: error.message })
    }
    request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, 500, { detail: `An unexpected error occurred; the server log has it under request id ${request.id}.` })
  })

  // The answers no handler above writes (a plugin's own text, an empty 4xx) are made
  // problems too, so that a client can read every error alike.
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode < 400 || reply.statusCode >= 500 || String(reply.getHeader('content-type') ?? '').startsWith(PROBLEM_MEDIA_TYPE)) return payload
    if (payload && typeof (payload as { destroy?: unknown }).destroy === 'function') (payload as { destroy(): void }).destroy()
    const text = typeof payload === 'string' && payload.length > 0 && payload.length <= 200 && !payload.startsWith('{') ? payload : undefined
    reply.type(`${PROBLEM_MEDIA_TYPE}; charset=utf-8`)
    return JSON.stringify(problemBody(reply.statusCode, { detail: text ?? `${request.method} ${request.url.split('?')[0]!.slice(0, 200)} answered ${reply.statusCode}.` }))
  })

  app.setNotFoundHandler((request: FastifyRequest, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200)
    const allowed = app.allowedMethods(request)
    // A path its own method matches was routed, then found nothing (a static file not
    // there): that is a 404, not a wrong method.
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', allowed.join(', '))
      return sendProblem(reply, 405, { detail: `${path} answers ${allowed.join(', ')}, not ${request.method}.` })
    }
    return sendProblem(reply, 404, { detail: `No route ${request.method} ${path}; see /docs.` })
  })
}

/**
 * For Fastify's `frameworkErrors` option: the errors met before any route or hook runs (a
 * URL that does not decode, a path parameter over the router's length limit), answered as
 * problems like every other error, with the request id.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id)
  const status = typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 400
  const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path parameter is too long.' : 'The URL is not valid (bad percent-encoding).'
  sendProblem(reply, status, { detail })
}

/** Sends a problem body with `status` and the media type `application/problem+json`. */
export function sendProblem(reply: FastifyReply, status: number, fields: Partial<ProblemBody> & { detail: string }): FastifyReply {
  return reply.code(status).type(PROBLEM_MEDIA_TYPE).send(problemBody(status, fields))
}

function problemBody(status: number, fields: Partial<ProblemBody> & { detail: string }): ProblemBody {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, ...fields }
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'The request\'s headers are too large.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time.'],
}

/**
 * For Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (a malformed
 * request line or header, headers too large, too slow) answered as a problem like every
 * other error, on the raw socket, which is then closed: no route or hook runs for it.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return
  const [status, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'The request is not valid HTTP/1.1.']
  const body = JSON.stringify(problemBody(status, { detail }))
  socket.end([
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    `content-type: ${PROBLEM_MEDIA_TYPE}; charset=utf-8`,
    `content-length: ${Buffer.byteLength(body)}`,
    'x-content-type-options: nosniff',
    'cache-control: no-store',
    'connection: close',
    '',
    body,
  ].join('\r\n'))
}

function describe(errors: readonly ParameterError[]): string {
  return errors.map((e) => `${e.parameter}: ${e.message}`).join('; ')
}

export default fp(errors, { name: 'errors', dependencies: ['methods'] })
